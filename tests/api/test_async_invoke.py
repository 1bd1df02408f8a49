"""Asynchronous invocation through Tarn's port: 202, retries, destinations and the DLQ.

The stack retries after 0.2 s then 0.4 s (TARN_ASYNC_RETRY_BASE_S), so nothing waits minutes.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Stack
from tests.functions import create_python_function, unique_name

# Each run reports itself on the queue its event names, then fails when asked to.
REPORTER = """
import boto3

def handler(event, context):
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=event["report_to"], MessageBody=context.aws_request_id)
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"ok": event.get("value")}
"""


def make_queue(stack: Stack) -> tuple[str, str]:
    """A new SQS queue on the companion: its URL and ARN."""
    sqs = stack.client("sqs")
    url = sqs.create_queue(QueueName=unique_name("q"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return url, arn["QueueArn"]


def receive(stack: Stack, url: str, count: int, timeout_s: float = 30) -> list[dict[str, Any]]:
    """At least `count` messages from the queue, or fail after `timeout_s`."""
    sqs = stack.client("sqs")
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while len(messages) < count:
        assert time.monotonic() < deadline, f"{len(messages)} of {count} messages arrived"
        answer = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        )
        messages += answer.get("Messages", [])
    return messages


def quiet(stack: Stack, url: str, wait_s: float = 2.0) -> bool:
    """True when no message arrives on the queue within `wait_s`."""
    answer = stack.client("sqs").receive_message(
        QueueUrl=url, WaitTimeSeconds=int(wait_s), MaxNumberOfMessages=10
    )
    return not answer.get("Messages")


def invoke_event(stack: Stack, name: str, event: dict[str, Any]) -> dict[str, Any]:
    payload = json.dumps(event).encode()
    return stack.client().invoke(FunctionName=name, InvocationType="Event", Payload=payload)


def reporter_sending_to(stack: Stack, where: str, arn: str, **config: int) -> str:
    """A new REPORTER function whose Event invocations go on to `arn` (`where`: OnSuccess or
    OnFailure), with the event-invoke `config` given; its name."""
    name = unique_name()
    create_python_function(stack.client(), name, REPORTER)
    stack.client().put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={where: {"Destination": arn}}, **config
    )
    return name


def test_event_invocation_answers_202_and_runs(stack: Stack) -> None:
    name = unique_name()
    create_python_function(stack.client(), name, REPORTER)
    url, _ = make_queue(stack)
    response = invoke_event(stack, name, {"report_to": url})
    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""
    request_id = response["ResponseMetadata"]["RequestId"]
    assert [m["Body"] for m in receive(stack, url, 1)] == [request_id]


def test_legacy_invoke_async_answers_status_202(stack: Stack) -> None:
    name = unique_name()
    create_python_function(stack.client(), name, REPORTER)
    url, _ = make_queue(stack)
    response = stack.client().invoke_async(
        FunctionName=name, InvokeArgs=json.dumps({"report_to": url})
    )
    assert response["Status"] == 202
    assert len(receive(stack, url, 1)) == 1


def test_event_payload_over_1_mb_is_too_large(stack: Stack) -> None:
    name = unique_name()
    create_python_function(stack.client(), name, REPORTER)
    payload = json.dumps({"pad": "x" * 1_048_576}).encode()
    with pytest.raises(ClientError) as raised:
        stack.client().invoke(FunctionName=name, InvocationType="Event", Payload=payload)
    error = raised.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert error["Error"]["Code"] == "RequestTooLargeException"
    assert error["Error"]["Message"] == (
        "Request must be smaller than 1048576 bytes for the InvokeFunction operation"
    )


def test_success_record_reaches_the_on_success_queue(stack: Stack) -> None:
    reports, _ = make_queue(stack)
    success_url, success_arn = make_queue(stack)
    name = reporter_sending_to(stack, "OnSuccess", success_arn)
    event = {"report_to": reports, "value": 7}
    invoke_event(stack, name, event)
    record = json.loads(receive(stack, success_url, 1)[0]["Body"])
    assert record["version"] == "1.0"
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestContext"]["functionArn"].endswith(f":function:{name}:$LATEST")
    assert record["requestPayload"] == event
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"ok": 7}


def test_failing_function_runs_three_times_then_reaches_on_failure(stack: Stack) -> None:
    runs, _ = make_queue(stack)
    failure_url, failure_arn = make_queue(stack)
    name = reporter_sending_to(stack, "OnFailure", failure_arn, MaximumRetryAttempts=2)
    invoke_event(stack, name, {"report_to": runs, "fail": True})
    record = json.loads(receive(stack, failure_url, 1)[0]["Body"])
    assert len(receive(stack, runs, 3)) == 3
    assert quiet(stack, runs)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorMessage"] == "asked to fail"


def test_async_invoke_goes_to_dlq_after_retries(stack: Stack) -> None:
    name = unique_name()
    dlq_url, dlq_arn = make_queue(stack)
    create_python_function(stack.client(), name, REPORTER, DeadLetterConfig={"TargetArn": dlq_arn})
    runs, _ = make_queue(stack)
    event = {"report_to": runs, "fail": True}
    response = invoke_event(stack, name, event)
    message = receive(stack, dlq_url, 1)[0]
    assert json.loads(message["Body"]) == event
    attributes = message["MessageAttributes"]
    assert attributes["RequestID"]["StringValue"] == response["ResponseMetadata"]["RequestId"]
    assert attributes["ErrorCode"]["StringValue"] == "200"
    assert attributes["ErrorMessage"]["StringValue"] == "asked to fail"
    assert len(receive(stack, runs, 3)) == 3


def test_event_invoke_config_lifecycle_and_validation(stack: Stack) -> None:
    client = stack.client()
    name = unique_name()
    create_python_function(client, name, REPORTER)
    _, queue_arn = make_queue(stack)
    put = client.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    assert put["FunctionArn"].endswith(f":function:{name}:$LATEST")
    assert put["MaximumRetryAttempts"] == 1
    updated = client.update_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnFailure": {"Destination": queue_arn}}
    )
    assert updated["MaximumRetryAttempts"] == 1
    assert updated["DestinationConfig"]["OnFailure"] == {"Destination": queue_arn}
    got = client.get_function_event_invoke_config(FunctionName=name)
    assert got["DestinationConfig"] == updated["DestinationConfig"]
    listed = client.list_function_event_invoke_configs(FunctionName=name)
    assert [c["FunctionArn"] for c in listed["FunctionEventInvokeConfigs"]] == [put["FunctionArn"]]
    client.delete_function_event_invoke_config(FunctionName=name)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_function_event_invoke_config(FunctionName=name)


@pytest.mark.parametrize(
    ("settings", "code"),
    [
        ({"MaximumRetryAttempts": 3}, "ValidationException"),
        ({"MaximumEventAgeInSeconds": 59}, "ValidationException"),
        ({"MaximumEventAgeInSeconds": 21_601}, "ValidationException"),
        ({}, "InvalidParameterValueException"),
        (
            {"DestinationConfig": {"OnSuccess": {"Destination": "SELF"}}},
            "InvalidParameterValueException",
        ),
    ],
)
def test_event_invoke_config_is_validated(
    stack: Stack, settings: dict[str, Any], code: str
) -> None:
    client = stack.client(validate=False)
    name = unique_name()
    created = create_python_function(client, name, REPORTER)
    if "DestinationConfig" in settings:
        settings = {"DestinationConfig": {"OnSuccess": {"Destination": created["FunctionArn"]}}}
    with pytest.raises(ClientError) as raised:
        client.put_function_event_invoke_config(FunctionName=name, **settings)
    assert raised.value.response["Error"]["Code"] == code


def test_deleting_a_function_drops_its_event_invoke_configs(stack) -> None:  # type: ignore[no-untyped-def]
    client = stack.client()
    name = unique_name("cfg")
    create_python_function(client, name)
    client.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    client.delete_function(FunctionName=name)
    create_python_function(client, name)
    with pytest.raises(ClientError) as error:
        client.get_function_event_invoke_config(FunctionName=name)
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"
