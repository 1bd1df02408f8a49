"""Invoke through boto3 against `tarn up --executor docker`: the process executor's cases, in
containers of the stand-in runtime images, plus image functions and images that cannot be had.
"""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from bus.quotas import PROCESSES_PER_ENVIRONMENT
from tests.api.test_invoke import NODE_HANDLERS, PYTHON_HANDLERS, SHELL_BOOTSTRAP, invoke
from tests.api.test_process_limits import THREADING
from tests.docker.images.build import StandIns
from tests.functions import ROLE, create_python_function, unique_name, zip_of
from tests.waiting import wait_for

# Each container has a /tmp of its own: an id written there names the container.
ENVIRONMENT_ID = """
import os, time, uuid

def handler(event, context):
    if not os.path.exists("/tmp/environment-id"):
        with open("/tmp/environment-id", "w") as f:
            f.write(uuid.uuid4().hex)
    time.sleep(1)
    with open("/tmp/environment-id") as f:
        return f.read()
"""

MEMORY_HOG = """
def handler(event, context):
    hog = "x" * (event["mb"] * 1024 * 1024)
    return len(hog)
"""


def python_function(client, handler: str, code: str = PYTHON_HANDLERS, **config) -> str:  # type: ignore[no-untyped-def]
    name = unique_name(handler.replace("_", "-"))
    create_python_function(client, name, code=code, Handler=f"app.{handler}", **config)
    return name


def wait_active(client, name: str) -> None:  # type: ignore[no-untyped-def]
    client.get_waiter("function_active_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 150}
    )


def test_python_echo_in_a_container(docker_client) -> None:
    name = python_function(docker_client, "echo")
    response = invoke(docker_client, name, {"hello": "docker"})
    assert response["StatusCode"] == 200
    assert json.loads(response["Body"]) == {"hello": "docker"}
    assert "FunctionError" not in response


def test_context_and_reserved_environment_in_a_container(docker_client) -> None:
    name = python_function(
        docker_client, "whoami", Environment={"Variables": {"GREETING": "hi"}}, MemorySize=256
    )
    result = json.loads(invoke(docker_client, name, {})["Body"])
    env = result["env"]
    assert env["LAMBDA_TASK_ROOT"] == "/var/task"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["_HANDLER"] == "app.whoami"
    assert env["TZ"] == ":UTC"
    assert env["GREETING"] == "hi"
    assert 0 < result["remaining_ms"] <= 3000


def test_warm_container_is_reused(docker_client) -> None:
    name = python_function(docker_client, "whoami")
    first = json.loads(invoke(docker_client, name, {})["Body"])
    second = json.loads(invoke(docker_client, name, {})["Body"])
    assert first["pid"] == second["pid"]
    assert first["request_id"] != second["request_id"]


def test_handler_error_in_a_container(docker_client) -> None:
    response = invoke(docker_client, python_function(docker_client, "boom"), {})
    assert response["FunctionError"] == "Unhandled"
    body = json.loads(response["Body"])
    assert (body["errorType"], body["errorMessage"]) == ("ValueError", "boom")


def test_import_error_in_a_container(docker_client) -> None:
    name = python_function(docker_client, "echo", code="import no_such_module\n")
    body = json.loads(invoke(docker_client, name, {})["Body"])
    assert body["errorType"] == "Runtime.ImportModuleError"


def test_timeout_kills_the_container_and_a_new_one_serves_next(docker_client) -> None:
    name = python_function(docker_client, "sleepy", Timeout=1)
    response = invoke(docker_client, name, {"seconds": 5})
    body = json.loads(response["Body"])
    request_id = response["ResponseMetadata"]["RequestId"]
    assert body["errorType"] == "Sandbox.Timedout"
    assert body["errorMessage"] == (
        f"RequestId: {request_id} Error: Task timed out after 1.00 seconds"
    )
    assert json.loads(invoke(docker_client, name, {"seconds": 0})["Body"]) == "woke"


def test_crash_is_runtime_exit_error(docker_client) -> None:
    response = invoke(docker_client, python_function(docker_client, "die"), {})
    body = json.loads(response["Body"])
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert body["errorMessage"].endswith("Error: Runtime exited with error: exit status 3")


def test_memory_limit_exceeded_is_signal_killed(docker_client) -> None:
    name = python_function(docker_client, "handler", code=MEMORY_HOG, MemorySize=128)
    assert json.loads(invoke(docker_client, name, {"mb": 16})["Body"]) == 16 * 1024 * 1024
    response = invoke(docker_client, name, {"mb": 400}, LogType="Tail")
    body = json.loads(response["Body"])
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert body["errorMessage"].endswith("Error: Runtime exited with error: signal: killed")
    log = base64.b64decode(response["LogResult"]).decode()
    assert "Memory Size: 128 MB" in log
    # The killed container is never reused: the next invocation gets a new one.
    assert json.loads(invoke(docker_client, name, {"mb": 1})["Body"]) == 1024 * 1024


def test_log_tail_holds_the_invocations_own_log(docker_client) -> None:
    response = invoke(docker_client, python_function(docker_client, "chatty"), {}, LogType="Tail")
    log = base64.b64decode(response["LogResult"]).decode()
    request_id = response["ResponseMetadata"]["RequestId"]
    assert "last words" in log
    assert f"END RequestId: {request_id}" in log
    assert f"REPORT RequestId: {request_id}" in log


OUTPUT_PIPE = """
import os, sys

def handler(event, context):
    print("to stdout"); print("to stderr", file=sys.stderr)
    return [os.readlink(f"/proc/self/fd/{fd}") for fd in (1, 2)]
"""


def test_a_zip_functions_output_goes_through_tarns_pipe_and_is_in_its_log(docker_client) -> None:
    name = python_function(docker_client, "handler", code=OUTPUT_PIPE)
    for _ in range(3):  # warm invokes: each log complete when its response is
        response = invoke(docker_client, name, {}, LogType="Tail")
        log = base64.b64decode(response["LogResult"]).decode()
        assert json.loads(response["Body"]) == ["/var/tarn/output"] * 2
        assert "to stdout" in log and "to stderr" in log
        assert f"END RequestId: {response['ResponseMetadata']['RequestId']}" in log


def test_parallel_invokes_run_in_parallel_containers(docker_client) -> None:
    name = python_function(docker_client, "handler", code=ENVIRONMENT_ID, Timeout=30)
    with ThreadPoolExecutor(8) as threads:
        responses = list(threads.map(lambda _: invoke(docker_client, name, {}), range(8)))
    assert all("FunctionError" not in r for r in responses), [r["Body"] for r in responses]
    assert len({json.loads(r["Body"]) for r in responses}) == 8


def test_node_echo_and_error_in_a_container(docker_client) -> None:
    names = {}
    for handler in ("echo", "boom"):
        names[handler] = unique_name("node")
        docker_client.create_function(
            FunctionName=names[handler],
            Runtime="nodejs20.x",
            Role=ROLE,
            Handler=f"index.{handler}",
            Code={"ZipFile": zip_of({"index.js": NODE_HANDLERS})},
        )
        wait_active(docker_client, names[handler])
    assert json.loads(invoke(docker_client, names["echo"], {"a": 1})["Body"]) == {"a": 1}
    body = json.loads(invoke(docker_client, names["boom"], {})["Body"])
    assert (body["errorType"], body["errorMessage"]) == ("TypeError", "node boom")


def test_provided_runtime_runs_the_bootstrap_in_var_task(docker_client) -> None:
    name = unique_name("shell")
    docker_client.create_function(
        FunctionName=name,
        Runtime="provided.al2023",
        Role=ROLE,
        Handler="unused",
        Code={"ZipFile": zip_of({"bootstrap": SHELL_BOOTSTRAP}, modes={"bootstrap": 0o755})},
    )
    wait_active(docker_client, name)
    assert json.loads(invoke(docker_client, name, {"x": 1})["Body"]) == {"shell": {"x": 1}}


def create_image_function(client, image: str, **config) -> str:  # type: ignore[no-untyped-def]
    name = unique_name("image")
    client.create_function(
        FunctionName=name, Role=ROLE, PackageType="Image", Code={"ImageUri": image}, **config
    )
    return name


def test_image_function_runs_its_own_image(docker_client, stand_ins: StandIns) -> None:
    name = create_image_function(docker_client, stand_ins.function_image)
    wait_active(docker_client, name)
    result = json.loads(invoke(docker_client, name, {"k": "v"})["Body"])
    assert result == {"image": {"k": "v"}, "cwd": "/var/task", "argv_handler": "app.handler"}
    function = docker_client.get_function(FunctionName=name)
    assert function["Code"]["ImageUri"] == stand_ins.function_image
    assert function["Configuration"]["PackageType"] == "Image"


def test_image_config_overrides_command_and_working_directory(
    docker_client, stand_ins: StandIns
) -> None:
    name = create_image_function(
        docker_client,
        stand_ins.function_image,
        ImageConfig={
            "EntryPoint": ["/lambda-entrypoint.sh"],
            "Command": ["app.handler"],
            "WorkingDirectory": "/tmp",
        },
    )
    wait_active(docker_client, name)
    result = json.loads(invoke(docker_client, name, 1)["Body"])
    assert result["cwd"] == "/tmp"
    assert result["argv_handler"] == "app.handler"


def test_image_that_cannot_be_pulled_fails_the_function(docker_client) -> None:
    # Nothing listens on port 1: the pull fails at once, as it does without a registry.
    image = "127.0.0.1:1/tarn/missing:1"
    name = create_image_function(docker_client, image)
    wait_for(
        lambda: docker_client.get_function(FunctionName=name)["Configuration"]["State"] == "Failed",
        30,
        "State Failed",
    )
    configuration = docker_client.get_function(FunctionName=name)["Configuration"]
    assert configuration["StateReasonCode"] == "ImageAccessDenied"
    assert image in configuration["StateReason"]
    assert "TARN_IMAGE_OVERRIDES" in configuration["StateReason"]


def test_image_function_refuses_runtime_and_handler(docker_client, stand_ins: StandIns) -> None:
    with pytest.raises(docker_client.exceptions.InvalidParameterValueException) as error:
        create_image_function(
            docker_client, stand_ins.function_image, Runtime="python3.12", Handler="app.handler"
        )
    assert "PackageType is Image" in str(error.value)


def test_a_container_runs_at_most_lambdas_1024_processes_and_threads(docker_client) -> None:
    name = python_function(docker_client, "handler", code=THREADING, Timeout=30)
    started = json.loads(invoke(docker_client, name, {"threads": 3000})["Body"])
    assert 900 < started < PROCESSES_PER_ENVIRONMENT
