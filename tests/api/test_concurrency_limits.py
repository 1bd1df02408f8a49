"""Reserved concurrency enforced on a real stack: at most N at once, AWS's throttle beyond it,
Event invocations of a throttled function retried until they all run."""

from __future__ import annotations

import base64
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bus.concurrency import REFRESH_S
from tests.conftest import Stack
from tests.functions import create_python_function, unique_name
from tests.pool.test_pool import gone
from tests.waiting import wait_for

# Appends "start <t>" and "end <t>" to the file the event names, around a sleep.
RECORDING = """\
import os, time

def handler(event, context):
    with open(event["record"], "a") as f:
        f.write(f"start {time.time()}\\n")
    time.sleep(event.get("seconds", 1))
    with open(event["record"], "a") as f:
        f.write(f"end {time.time()}\\n")
    return {"type": os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE")}
"""


def reserve(client: Any, name: str, reserved: int) -> None:
    """Reserve, then wait until every pool process has seen it."""
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=reserved)
    time.sleep(REFRESH_S * 1.5)


def most_at_once(record: Path) -> int:
    """The largest number of invocations that were running at the same moment."""
    events = []
    for line in record.read_text().splitlines():
        kind, at = line.split()
        events.append((float(at), 1 if kind == "start" else -1))
    running = peak = 0
    for _, change in sorted(events, key=lambda e: (e[0], e[1])):
        running += change
        peak = max(peak, running)
    return peak


def invoke(stack: Stack, name: str, event: dict[str, Any]) -> dict[str, Any]:
    """Invoke on a client of its own; the throttle's error response, or the payload."""
    try:
        response = stack.client().invoke(FunctionName=name, Payload=json.dumps(event))
    except ClientError as error:
        return dict(error.response)
    return {"payload": json.loads(response["Payload"].read())}


def test_reserved_concurrency_runs_at_most_n_at_once_and_throttles_the_rest(
    stack, lambda_client, tmp_path
) -> None:
    name = unique_name()
    create_python_function(lambda_client, name, code=RECORDING, Timeout=30)
    reserve(lambda_client, name, 2)
    record = tmp_path / "record"
    event = {"record": str(record)}
    with ThreadPoolExecutor(6) as threads:
        results = list(threads.map(lambda _: invoke(stack, name, event), range(6)))
    ran = [r for r in results if "payload" in r]
    throttled = [r for r in results if "payload" not in r]
    assert len(ran) == 2, results
    assert len(throttled) == 4
    for error in throttled:
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert error["Error"] == {
            "Code": "TooManyRequestsException",
            "Message": "Rate Exceeded.",
        }
        assert error["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
        assert error["Type"] == "User"
    assert most_at_once(record) == 2


def test_reserved_concurrency_of_zero_throttles_every_invoke(stack, lambda_client) -> None:
    name = unique_name()
    create_python_function(lambda_client, name)
    reserve(lambda_client, name, 0)
    for _ in range(2):
        with pytest.raises(ClientError) as error:
            lambda_client.invoke(FunctionName=name, Payload=b"{}")
        assert error.value.response["Error"]["Code"] == "TooManyRequestsException"
        assert error.value.response["Reason"] == (
            "ReservedFunctionConcurrentInvocationLimitExceeded"
        )
    lambda_client.delete_function_concurrency(FunctionName=name)
    time.sleep(REFRESH_S * 1.5)
    assert lambda_client.invoke(FunctionName=name, Payload=b"{}")["StatusCode"] == 200


def test_event_invocations_of_a_throttled_function_all_run_eventually(
    lambda_client, tmp_path
) -> None:
    name = unique_name()
    create_python_function(lambda_client, name, code=RECORDING, Timeout=30)
    reserve(lambda_client, name, 1)
    record = tmp_path / "record"
    event = json.dumps({"record": str(record), "seconds": 0.3})
    for _ in range(5):
        response = lambda_client.invoke(FunctionName=name, InvocationType="Event", Payload=event)
        assert response["StatusCode"] == 202

    def ended() -> int:
        return record.read_text().count("end") if record.exists() else 0

    wait_for(lambda: ended() == 5, timeout_s=60, what="all 5 events to run")
    assert most_at_once(record) == 1


PROVISIONED_REPORTER = """\
import os

def handler(event, context):
    return {"type": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"], "pid": os.getpid()}
"""


def test_provisioned_concurrency_starts_warm_environments_used_first(lambda_client) -> None:
    name = unique_name()
    create_python_function(lambda_client, name, code=PROVISIONED_REPORTER, Publish=True)
    lambda_client.get_waiter("function_active_v2").wait(
        FunctionName=name, Qualifier="1", WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
    )
    lambda_client.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=2
    )

    def config() -> dict[str, Any]:
        return dict(
            lambda_client.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
        )

    wait_for(lambda: config()["Status"] == "READY", timeout_s=60, what="READY")
    ready = config()
    assert ready["AllocatedProvisionedConcurrentExecutions"] == 2
    assert ready["AvailableProvisionedConcurrentExecutions"] == 2
    response = lambda_client.invoke(FunctionName=name, Qualifier="1", LogType="Tail")
    result = json.loads(response["Payload"].read())
    assert result["type"] == "provisioned-concurrency"
    report = base64.b64decode(response["LogResult"]).decode()
    assert "REPORT RequestId" in report
    assert "Init Duration" not in report
    on_demand = json.loads(lambda_client.invoke(FunctionName=name)["Payload"].read())
    assert on_demand["type"] == "on-demand"
    lambda_client.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
    wait_for(lambda: gone(result["pid"]), timeout_s=15, what="the environment to stop")
