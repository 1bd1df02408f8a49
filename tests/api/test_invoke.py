"""Invoke through boto3 against the running stack: real runtimes, AWS's answers."""

from __future__ import annotations

import base64
import json
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from tests.api.test_functions import ARN_PREFIX, assert_error
from tests.functions import ROLE, create_python_function, unique_name, zip_of
from tests.waiting import wait_for

PYTHON_HANDLERS = """
import json, os, sys, time

def echo(event, context):
    return event

def boom(event, context):
    raise ValueError("boom")

def sleepy(event, context):
    time.sleep(event.get("seconds", 10))
    return "woke"

def die(event, context):
    os._exit(3)

def chatty(event, context):
    for i in range(2000):
        print(f"line {i}")
    print("last words")
    return "done"

def huge(event, context):
    return "x" * 7_000_000

def whoami(event, context):
    return {
        "pid": os.getpid(),
        "request_id": context.aws_request_id,
        "arn": context.invoked_function_arn,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "client_context": context.client_context.custom if context.client_context else None,
        "env": {k: os.environ.get(k) for k in (
            "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_REGION", "AWS_DEFAULT_REGION", "TZ",
            "LAMBDA_TASK_ROOT", "_HANDLER", "AWS_EXECUTION_ENV", "GREETING",
            "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
        )},
    }

def slow_pid(event, context):
    time.sleep(1)
    return os.getpid()
"""

NODE_HANDLERS = """
exports.echo = async (event) => event;
exports.boom = async () => { throw new TypeError("node boom"); };
exports.callback = (event, context, callback) => callback(null, {cb: event});
"""


@pytest.fixture(scope="module")
def python_function(stack) -> str:  # type: ignore[no-untyped-def]
    name = unique_name("py")
    create_python_function(
        stack.client(),
        name,
        code=PYTHON_HANDLERS,
        Handler="app.echo",
        Timeout=2,
        Environment={"Variables": {"GREETING": "hi"}},
    )
    return name


def handler_function(client, base: str, handler: str, **config) -> str:  # type: ignore[no-untyped-def]
    name = unique_name(handler)
    create_python_function(client, name, code=PYTHON_HANDLERS, Handler=f"app.{handler}", **config)
    return name


def invoke(client, name: str, payload: object = None, **kwargs):  # type: ignore[no-untyped-def]
    body = b"" if payload is None else json.dumps(payload).encode()
    response = client.invoke(FunctionName=name, Payload=body, **kwargs)
    response["Body"] = response["Payload"].read()
    return response


def test_python_echo(lambda_client, python_function: str) -> None:
    response = invoke(lambda_client, python_function, {"hello": "tarn"})
    assert response["StatusCode"] == 200
    assert json.loads(response["Body"]) == {"hello": "tarn"}
    assert response["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in response


def test_invoke_by_arn_and_partial_arn(lambda_client, python_function: str) -> None:
    for reference in (ARN_PREFIX + python_function, f"000000000000:function:{python_function}"):
        assert json.loads(invoke(lambda_client, reference, [1, 2])["Body"]) == [1, 2]


def test_context_and_reserved_environment(lambda_client) -> None:
    name = handler_function(
        lambda_client, "ctx", "whoami", Environment={"Variables": {"GREETING": "hi"}}
    )
    context = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    response = invoke(lambda_client, name, {}, ClientContext=context)
    result = json.loads(response["Body"])
    assert result["arn"] == ARN_PREFIX + name
    assert result["client_context"] == {"k": "v"}
    assert 0 < result["remaining_ms"] <= 3000
    env = result["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["TZ"] == ":UTC"
    assert env["_HANDLER"] == "app.whoami"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["GREETING"] == "hi"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{name}"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"].count("/") == 3


def test_warm_environment_is_reused(lambda_client) -> None:
    name = handler_function(lambda_client, "warm", "whoami")
    first = json.loads(invoke(lambda_client, name, {})["Body"])
    second = json.loads(invoke(lambda_client, name, {})["Body"])
    assert first["pid"] == second["pid"]
    assert first["request_id"] != second["request_id"]


def test_handler_error_is_unhandled_with_the_runtime_body(lambda_client) -> None:
    name = handler_function(lambda_client, "boom", "boom")
    response = invoke(lambda_client, name, {})
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    body = json.loads(response["Body"])
    assert (body["errorType"], body["errorMessage"]) == ("ValueError", "boom")
    assert body["stackTrace"]


def test_import_error_is_reported_as_function_error(lambda_client) -> None:
    name = unique_name("import")
    create_python_function(lambda_client, name, code="import no_such_module\n", Handler="app.echo")
    response = invoke(lambda_client, name, {})
    assert response["FunctionError"] == "Unhandled"
    body = json.loads(response["Body"])
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert "No module named 'no_such_module'" in body["errorMessage"]


def test_missing_handler_is_reported(lambda_client) -> None:
    name = handler_function(lambda_client, "nohandler", "absent")
    body = json.loads(invoke(lambda_client, name, {})["Body"])
    assert body["errorType"] == "Runtime.HandlerNotFound"


def test_timeout_kills_the_environment_and_a_new_one_serves_next(lambda_client) -> None:
    name = handler_function(lambda_client, "sleepy", "sleepy", Timeout=1)
    response = invoke(lambda_client, name, {"seconds": 5})
    assert response["FunctionError"] == "Unhandled"
    body = json.loads(response["Body"])
    assert body["errorType"] == "Sandbox.Timedout"
    request_id = response["ResponseMetadata"]["RequestId"]
    assert (
        body["errorMessage"] == f"RequestId: {request_id} Error: Task timed out after 1.00 seconds"
    )
    again = invoke(lambda_client, name, {"seconds": 0})
    assert json.loads(again["Body"]) == "woke"


def test_process_exit_is_runtime_exit_error(lambda_client) -> None:
    name = handler_function(lambda_client, "die", "die")
    response = invoke(lambda_client, name, {})
    body = json.loads(response["Body"])
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert body["errorMessage"].endswith("Error: Runtime exited with error: exit status 3")


def test_response_over_6_mb_is_too_large(lambda_client) -> None:
    name = handler_function(lambda_client, "huge", "huge")
    response = invoke(lambda_client, name, {})
    body = json.loads(response["Body"])
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Function.ResponseSizeTooLarge"


def test_log_tail_holds_the_invocations_own_log(lambda_client) -> None:
    name = handler_function(lambda_client, "chatty", "chatty")
    response = invoke(lambda_client, name, {}, LogType="Tail")
    log = base64.b64decode(response["LogResult"]).decode()
    request_id = response["ResponseMetadata"]["RequestId"]
    assert len(log.encode()) <= 4096
    assert "last words" in log
    assert f"END RequestId: {request_id}" in log
    assert f"REPORT RequestId: {request_id}" in log


def test_start_line_is_in_the_tail_of_a_short_log(lambda_client, python_function: str) -> None:
    response = invoke(lambda_client, python_function, {}, LogType="Tail")
    log = base64.b64decode(response["LogResult"]).decode()
    assert log.startswith(f"START RequestId: {response['ResponseMetadata']['RequestId']}")


def test_parallel_invokes_run_in_parallel_environments(lambda_client) -> None:
    name = handler_function(lambda_client, "parallel", "slow_pid", Timeout=30)
    with ThreadPoolExecutor(20) as threads:
        responses = list(threads.map(lambda _: invoke(lambda_client, name, {}), range(20)))
    assert all(r["StatusCode"] == 200 and "FunctionError" not in r for r in responses)
    assert len({json.loads(r["Body"]) for r in responses}) == 20


def test_updated_code_runs_in_new_environments(lambda_client) -> None:
    name = handler_function(lambda_client, "upd", "echo")
    assert json.loads(invoke(lambda_client, name, 1)["Body"]) == 1
    lambda_client.update_function_code(
        FunctionName=name, ZipFile=zip_of({"app.py": "def echo(e, c):\n    return 'v2'\n"})
    )
    lambda_client.get_waiter("function_updated_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
    )
    assert json.loads(invoke(lambda_client, name, 1)["Body"]) == "v2"


def test_dry_run_answers_204(lambda_client, python_function: str) -> None:
    response = lambda_client.invoke(FunctionName=python_function, InvocationType="DryRun")
    assert response["StatusCode"] == 204


def create_node_function(client, handler: str, code: str = NODE_HANDLERS) -> str:  # type: ignore[no-untyped-def]
    name = unique_name("node")
    client.create_function(
        FunctionName=name,
        Runtime="nodejs20.x",
        Role=ROLE,
        Handler=f"index.{handler}",
        Code={"ZipFile": zip_of({"index.js": code})},
    )
    client.get_waiter("function_active_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
    )
    return name


needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


@needs_node
def test_node_echo_and_callback(lambda_client) -> None:
    assert json.loads(
        invoke(lambda_client, create_node_function(lambda_client, "echo"), {"a": 1})["Body"]
    ) == {"a": 1}
    callback = create_node_function(lambda_client, "callback")
    assert json.loads(invoke(lambda_client, callback, 5)["Body"]) == {"cb": 5}


@needs_node
def test_node_error(lambda_client) -> None:
    response = invoke(lambda_client, create_node_function(lambda_client, "boom"), {})
    body = json.loads(response["Body"])
    assert response["FunctionError"] == "Unhandled"
    assert (body["errorType"], body["errorMessage"]) == ("TypeError", "node boom")


SHELL_BOOTSTRAP = """#!/bin/bash
set -euo pipefail
api="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  headers="$(mktemp)"
  event=$(curl -sS -D "$headers" "$api/invocation/next")
  id=$(grep -i Lambda-Runtime-Aws-Request-Id "$headers" | tr -d '[:space:]' | cut -d: -f2)
  curl -sS -o /dev/null "$api/invocation/$id/response" -d "{\\"shell\\": $event}"
done
"""


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_provided_runtime_runs_a_shell_bootstrap(lambda_client) -> None:
    name = unique_name("shell")
    lambda_client.create_function(
        FunctionName=name,
        Runtime="provided.al2023",
        Role=ROLE,
        Handler="unused",
        Code={"ZipFile": zip_of({"bootstrap": SHELL_BOOTSTRAP}, modes={"bootstrap": 0o755})},
    )
    lambda_client.get_waiter("function_active_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
    )
    assert json.loads(invoke(lambda_client, name, {"x": 1})["Body"]) == {"shell": {"x": 1}}


def test_unknown_function_is_404_with_latest_in_the_arn(lambda_client) -> None:
    name = unique_name("missing")
    with pytest.raises(ClientError) as error:
        invoke(lambda_client, name, {})
    assert_error(
        error, "ResourceNotFoundException", 404, f"Function not found: {ARN_PREFIX}{name}:$LATEST"
    )


def test_payload_that_is_not_json_is_refused(lambda_client, python_function: str) -> None:
    with pytest.raises(ClientError) as error:
        lambda_client.invoke(FunctionName=python_function, Payload=b"not json")
    assert error.value.response["Error"]["Code"] == "InvalidRequestContentException"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error.value.response["Error"]["Message"].startswith(
        "Could not parse request body into json: Could not parse payload into json"
    )


def test_payload_over_6_mb_is_413(lambda_client, python_function: str) -> None:
    with pytest.raises(ClientError) as error:
        lambda_client.invoke(FunctionName=python_function, Payload=json.dumps("x" * 6_300_000))
    assert_error(
        error,
        "RequestTooLargeException",
        413,
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
    )


def test_function_that_failed_to_provision_is_409(lambda_client) -> None:
    name = unique_name("failed")
    # The central directory is intact, so CreateFunction accepts the package; the member's
    # compressed bytes are not, so unpacking fails and the function ends Failed.
    package = bytearray(zip_of({"app.py": "x = 1\n" * 500}))
    package[40:60] = bytes(20)
    lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.echo",
        Code={"ZipFile": bytes(package)},
    )
    wait_for(
        lambda: lambda_client.get_function(FunctionName=name)["Configuration"]["State"] == "Failed",
        10,
        "State Failed",
    )
    with pytest.raises(ClientError) as error:
        invoke(lambda_client, name, {})
    assert_error(
        error,
        "ResourceConflictException",
        409,
        "The operation cannot be performed at this time. The function is currently in "
        "the following state: Failed",
    )
