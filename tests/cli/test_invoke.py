"""`tarn lambda invoke`: payload sources, the result on stdout and the log on stderr, exit codes,
Event invokes and JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import Tarn, python_package
from tests.conftest import Stack
from tests.functions import unique_name

ECHO = """def handler(event, context):
    print("echoing", event)
    if event.get("fail"):
        raise ValueError("asked to fail")
    if event.get("chatty"):
        for n in range(200):
            print(f"line {n:03} " + "x" * 40)
    return event
"""


@pytest.fixture
def echo(tarn: Tarn, tmp_path: Path) -> str:
    name = unique_name("echo")
    python_package(tmp_path, ECHO)
    created = tarn("create", "-n", name, "--runtime", "python3.12", "--handler", "app.handler",
                   "--zip", "function.zip", "--timeout", "10")  # fmt: skip
    assert created.returncode == 0, created.stderr
    return name


def test_invoke_reads_the_payload_from_stdin(tarn: Tarn, echo: str) -> None:
    dashed = tarn("invoke", "-n", echo, "-", stdin='{"from": "stdin"}')
    assert dashed.returncode == 0, dashed.stderr
    assert json.loads(dashed.stdout) == {"from": "stdin"}
    piped = tarn("invoke", "-n", echo, "--payload-file", "-", stdin='{"piped": true}')
    assert json.loads(piped.stdout) == {"piped": True}


def test_invoke_reads_a_payload_file(tarn: Tarn, echo: str, tmp_path: Path) -> None:
    (tmp_path / "event.json").write_text('{"from": "file"}')
    result = tarn("invoke", "-n", echo, "--payload-file", "event.json")
    assert json.loads(result.stdout) == {"from": "file"}
    assert "echoing {'from': 'file'}" in result.stderr


def test_a_function_error_prints_the_error_and_exits_non_zero(tarn: Tarn, echo: str) -> None:
    result = tarn("invoke", "-n", echo, "--payload", '{"fail": true}')
    assert result.returncode == 1
    assert json.loads(result.stdout)["errorMessage"] == "asked to fail"
    assert "[ERROR] ValueError: asked to fail" in result.stderr
    assert "Traceback" in result.stderr


def test_json_output_holds_status_payload_and_log(tarn: Tarn, echo: str) -> None:
    result = tarn("invoke", "-n", echo, "--payload", '{"a": 1}', "-o", "json")
    answer = json.loads(result.stdout)
    assert answer["StatusCode"] == 200
    assert answer["FunctionError"] is None
    assert answer["Payload"] == {"a": 1}
    assert answer["Log"].startswith("START RequestId: ")
    assert result.stderr == ""


def test_async_invoke_queues_the_event(tarn: Tarn, echo: str) -> None:
    result = tarn("invoke", "-n", echo, "--async", "--payload", "{}", "-o", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["StatusCode"] == 202


def test_a_long_log_is_printed_whole_unless_tail_is_asked(tarn: Tarn, echo: str) -> None:
    whole = tarn("invoke", "-n", echo, "--payload", '{"chatty": true}')
    assert "line 000" in whole.stderr and "line 199" in whole.stderr
    tail = tarn("invoke", "-n", echo, "--payload", '{"chatty": true}', "--tail")
    assert "line 000" not in tail.stderr and "line 199" in tail.stderr


def test_a_bad_payload_gets_the_apis_error(tarn: Tarn, echo: str) -> None:
    result = tarn("invoke", "-n", echo, "--payload", "{not json")
    assert result.returncode == 1
    assert result.stderr.startswith("tarn: InvalidRequestContentException")


def test_invoke_of_a_qualifier(tarn: Tarn, echo: str, stack: Stack) -> None:
    stack.client().publish_version(FunctionName=echo)
    result = tarn("invoke", "-n", echo, "-q", "1", "--payload", "{}", "-o", "json")
    assert json.loads(result.stdout)["ExecutedVersion"] == "1"
