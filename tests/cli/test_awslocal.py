"""`awslocal`: the AWS CLI on the stack, as Tarn's Lambda page writes its examples."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Stack
from tests.functions import ROLE, unique_name, zip_of

pytestmark = pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not on PATH")


def awslocal(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "services.cli.awslocal", *args]
    return subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


def bare_environment(endpoint: str) -> dict[str, str]:
    """A machine with no AWS configuration at all: only the stack's URL."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TARN_"))}
    return {**kept, "TARN_ENDPOINT": endpoint, "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "PYTHONPATH": os.getcwd()}  # fmt: skip


def test_the_pages_create_and_invoke_work_as_written(stack: Stack, tmp_path: Path) -> None:
    (tmp_path / "function.zip").write_bytes(
        zip_of({"index.js": "exports.handler = async (e) => ({echo: e});"})
    )
    env = bare_environment(stack.url)
    name = unique_name()
    created = awslocal(
        *("lambda", "create-function", "--function-name", name, "--runtime", "nodejs20.x"),
        *("--handler", "index.handler", "--role", ROLE, "--zip-file", "fileb://function.zip"),
        env=env,
        cwd=tmp_path,
    )
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["FunctionName"] == name
    waited = awslocal("lambda", "wait", "function-active-v2", "--function-name", name,
                      env=env, cwd=tmp_path)  # fmt: skip
    assert waited.returncode == 0, waited.stderr
    invoked = awslocal(
        "lambda", "invoke", "--function-name", name, "response.json", env=env, cwd=tmp_path
    )
    assert invoked.returncode == 0, invoked.stderr
    assert json.loads((tmp_path / "response.json").read_text()) == {"echo": {}}


def test_without_the_aws_cli_it_says_how_to_get_it(tmp_path: Path) -> None:
    env = {"PATH": str(tmp_path), "PYTHONPATH": os.getcwd()}
    result = awslocal("lambda", "list-functions", env=env, cwd=Path.cwd())
    assert result.returncode == 1
    assert "pip install awscli" in result.stderr
