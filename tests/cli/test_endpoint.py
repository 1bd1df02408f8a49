"""Which stack `tarn lambda` talks to, what it says when none answers, and its help."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.cli.conftest import cli_env, run_tarn
from tests.conftest import Stack, free_port

SUBCOMMANDS = [
    ["create"], ["update"], ["get"], ["list"], ["delete"], ["invoke"], ["logs"],
    ["publish-layer"], ["publish-version"], ["map"], ["unmap"],
    ["alias", "create"], ["alias", "update"], ["alias", "list"], ["alias", "delete"],
    ["secrets", "put"],
]  # fmt: skip


def test_no_stack_is_one_line_and_exit_1(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run_tarn(["lambda", "list"], cwd=tmp_path, env=cli_env(url))
    assert result.returncode == 1
    assert result.stderr == f"tarn: no stack answers at {url}: start one with `tarn up`\n"
    assert result.stdout == ""


def test_endpoint_option_wins_over_the_environment(stack: Stack, tmp_path: Path) -> None:
    env = cli_env(f"http://127.0.0.1:{free_port()}")
    result = run_tarn(
        ["lambda", "list", "--endpoint", stack.url, "-o", "json"], cwd=tmp_path, env=env
    )
    assert result.returncode == 0, result.stderr
    assert isinstance(json.loads(result.stdout), list)


def test_aws_endpoint_url_is_the_fallback(stack: Stack, tmp_path: Path) -> None:
    env = cli_env(stack.url)
    del env["TARN_ENDPOINT"]
    env["AWS_ENDPOINT_URL"] = stack.url
    result = run_tarn(["lambda", "list", "-o", "json"], cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr


def test_every_subcommand_has_help_with_an_example(tmp_path: Path) -> None:
    env = cli_env("http://127.0.0.1:1") | {"COLUMNS": "200"}
    for words in SUBCOMMANDS:
        result = run_tarn(["lambda", *words, "--help"], cwd=tmp_path, env=env)
        assert result.returncode == 0, result.stderr
        assert re.search(r"Example: tarn lambda " + " ".join(words), result.stdout), words


def test_tarn_up_keeps_its_options(tmp_path: Path) -> None:
    env = cli_env("http://127.0.0.1:1") | {"COLUMNS": "200"}
    result = run_tarn(["up", "--help"], cwd=tmp_path, env=env)
    for option in ("--host", "--port", "--data-dir", "--redis-url", "--executor", "--aws-endpoint"):
        assert option in result.stdout
    misspelt = run_tarn(["up"], cwd=tmp_path, env=env | {"TARN_PROT": "1"})
    assert misspelt.returncode == 1
    assert misspelt.stderr.startswith("tarn: TARN_PROT is not a Tarn setting")


def test_shell_completion_is_offered(tmp_path: Path) -> None:
    env = cli_env("http://127.0.0.1:1") | {
        "_TARN_COMPLETE": "complete_bash",
        "COMP_WORDS": "tarn lambda al",
        "COMP_CWORD": "2",
    }
    result = run_tarn([], cwd=tmp_path, env=env)
    assert "alias" in result.stdout
