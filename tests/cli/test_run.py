"""`tarn run` one-shot, as a user runs it: a real subprocess, the process executor, no stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import run_tarn
from tests.conftest import RUNTIMES_DIR
from workers.pool.interpreters import python_for

HELLO = """\
import os

def handler(event, context):
    print("hello from", context.function_name)
    return {"event": event, "memory": context.memory_limit_in_mb, "stage": os.environ.get("STAGE")}
"""
FAILING = """\
def handler(event, context):
    raise ValueError("no good: " + event["why"])
"""
SLOW = """\
import time

def handler(event, context):
    time.sleep(30)
"""


def run_env(**extra: str) -> dict[str, str]:
    """The test's environment without TARN_, AWS_ or DOCKER_LAMBDA_ settings of its own; the
    process executor's prepared runtimes are the test sessions' shared ones."""
    prefixes = ("TARN_", "AWS_", "DOCKER_LAMBDA_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    return env | {"TARN_RUNTIMES_DIR": str(RUNTIMES_DIR)} | extra


def tarn_run(
    folder: Path, *args: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    return run_tarn(["run", *args], cwd=folder, env=run_env(**env), stdin=stdin)


def function(folder: Path, code: str, name: str = "app.py") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(code)
    return folder


def test_run_prints_the_result_on_stdout_and_lambdas_log_lines_on_stderr(tmp_path: Path) -> None:
    folder = function(tmp_path, HELLO)
    done = tarn_run(folder, "--env", "STAGE=dev", "app.handler", '{"some": "event"}')
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"event": {"some": "event"}, "memory": "1536", "stage": "dev"}
    lines = done.stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("START RequestId: "))
    assert lines[start].endswith(" Version: $LATEST")
    assert lines[start + 1] == "hello from test"
    assert lines[start + 2].startswith("END RequestId: ")
    assert lines[start + 3].startswith("REPORT RequestId: ")
    assert "\tInit Duration: " in lines[start + 3]


def test_run_reads_the_event_from_a_file_and_from_stdin(tmp_path: Path) -> None:
    folder = function(tmp_path, HELLO)
    (folder / "event.json").write_text('{"from": "file"}')
    from_file = tarn_run(folder, "app.handler", "event.json")
    from_stdin = tarn_run(folder, "app.handler", "-", stdin='{"from": "stdin"}')
    assert json.loads(from_file.stdout)["event"] == {"from": "file"}, from_file.stderr
    assert json.loads(from_stdin.stdout)["event"] == {"from": "stdin"}, from_stdin.stderr


def test_a_function_error_exits_1_with_the_error_json_on_stdout(tmp_path: Path) -> None:
    folder = function(tmp_path, FAILING, "failing.py")
    done = tarn_run(folder, "--code", str(folder), "failing.handler", '{"why": "bad input"}')
    assert done.returncode == 1
    error = json.loads(done.stdout)
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "no good: bad input"
    assert "[ERROR] ValueError: no good: bad input" in done.stderr


def test_a_run_past_its_timeout_ends_as_lambda_ends_it(tmp_path: Path) -> None:
    folder = function(tmp_path, SLOW)
    done = tarn_run(folder, "--timeout", "1", "app.handler")
    assert done.returncode == 1
    error = json.loads(done.stdout)
    assert error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"].endswith("Task timed out after 1.00 seconds")
    assert "Status: timeout" in done.stderr


def test_docker_lambdas_variables_name_the_function_and_its_event(tmp_path: Path) -> None:
    folder = function(tmp_path, HELLO)
    by_body = tarn_run(
        folder,
        AWS_LAMBDA_FUNCTION_HANDLER="app.handler",
        AWS_LAMBDA_FUNCTION_NAME="myfunction",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256",
        AWS_LAMBDA_EVENT_BODY='{"from": "body"}',
    )
    assert by_body.returncode == 0, by_body.stderr
    assert json.loads(by_body.stdout)["event"] == {"from": "body"}
    assert json.loads(by_body.stdout)["memory"] == "256"
    assert "hello from myfunction" in by_body.stderr
    by_stdin = tarn_run(
        folder, "app.handler", stdin='{"from": "stdin"}', DOCKER_LAMBDA_USE_STDIN="1"
    )
    assert json.loads(by_stdin.stdout)["event"] == {"from": "stdin"}, by_stdin.stderr


def test_layers_from_folders_are_the_functions_opt(tmp_path: Path) -> None:
    code = function(tmp_path / "fn", "import shared\n\ndef handler(e, c):\n    return shared.WHO\n")
    layer = function(tmp_path / "layer" / "python", "WHO = 'the layer'\n", "shared.py")
    done = tarn_run(code, "--layer", str(layer.parent), "app.handler")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == "the layer"


def test_docker_lambdas_python38_runs_on_python_38_where_it_is_installed(tmp_path: Path) -> None:
    """`lambci/lambda:python3.8` translated: Python 3.8 has only awslambdaric 2.x."""
    if python_for("3.8") is None:
        pytest.skip("Python 3.8 is not installed here")
    folder = function(tmp_path, "import sys\n\ndef handler(e, c):\n    return sys.version[:3]\n")
    done = tarn_run(folder, "--runtime", "python3.8", "app.handler")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == "3.8"


def test_run_without_a_handler_file_says_what_is_missing(tmp_path: Path) -> None:
    done = tarn_run(tmp_path, "nowhere.handler")
    assert done.returncode != 0
    assert "cannot tell the runtime of handler 'nowhere.handler'" in done.stderr


def test_run_needs_no_stack_and_no_redis(tmp_path: Path) -> None:
    folder = function(tmp_path, HELLO)
    probe = (
        "import sys, runpy; sys.argv = ['tarn', 'run', 'app.handler'];"
        "import services.cli.commands as c\n"
        "try:\n    c.main()\nexcept SystemExit:\n    pass\n"
        "assert 'redis' not in sys.modules, 'tarn run imported redis'\n"
        "assert 'workers.pool.pool' not in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=folder,
        env=run_env(PYTHONPATH=str(Path(__file__).parents[2])),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
