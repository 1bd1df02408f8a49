"""Where Event invocations' outcomes go: SNS topics, functions and EventBridge buses as
destinations, SNS dead-letter topics, and AWS's checks on destinations.

The companion (moto) is the destination endpoint: a topic or bus delivers to an SQS queue the
test reads. https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.test_async_invoke import (
    REPORTER,
    invoke_event,
    make_queue,
    receive,
    reporter_sending_to,
)
from tests.conftest import Stack
from tests.functions import create_python_function, unique_name

# A destination function: it forwards the record it was invoked with to the queue the
# original event named.
FORWARDER = """
import json
import boto3

def handler(event, context):
    queue = event["requestPayload"]["forward_to"]
    boto3.client("sqs").send_message(QueueUrl=queue, MessageBody=json.dumps(event))
"""


def make_topic(stack: Stack) -> tuple[str, str]:
    """An SNS topic with a new SQS queue subscribed to it: the topic ARN and the queue URL."""
    sns = stack.client("sns")
    topic_arn = sns.create_topic(Name=unique_name("topic"))["TopicArn"]
    url, queue_arn = make_queue(stack)
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return topic_arn, url


def notification(stack: Stack, url: str) -> dict[str, Any]:
    """The one SNS notification that reached the queue `url` (SNS's JSON envelope)."""
    envelope = json.loads(receive(stack, url, 1)[0]["Body"])
    assert envelope["Type"] == "Notification"
    return dict(envelope)


def test_failure_record_reaches_an_sns_on_failure_destination(stack: Stack) -> None:
    runs, _ = make_queue(stack)
    topic_arn, subscriber = make_topic(stack)
    name = reporter_sending_to(stack, "OnFailure", topic_arn, MaximumRetryAttempts=0)
    event = {"report_to": runs, "fail": True}
    response = invoke_event(stack, name, event)
    envelope = notification(stack, subscriber)
    assert envelope["TopicArn"] == topic_arn
    record = json.loads(envelope["Message"])
    assert record["requestContext"] == {
        "requestId": response["ResponseMetadata"]["RequestId"],
        "functionArn": f"arn:aws:lambda:us-east-1:000000000000:function:{name}:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 1,
    }
    assert record["requestPayload"] == event
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorMessage"] == "asked to fail"


def test_dead_letter_topic_gets_the_event_with_its_error_attributes(stack: Stack) -> None:
    name = unique_name()
    topic_arn, subscriber = make_topic(stack)
    create_python_function(
        stack.client(), name, REPORTER, DeadLetterConfig={"TargetArn": topic_arn}
    )
    stack.client().put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    runs, _ = make_queue(stack)
    event = {"report_to": runs, "fail": True}
    response = invoke_event(stack, name, event)
    envelope = notification(stack, subscriber)
    assert json.loads(envelope["Message"]) == event
    assert envelope["MessageAttributes"] == {
        "RequestID": {"Type": "String", "Value": response["ResponseMetadata"]["RequestId"]},
        "ErrorCode": {"Type": "Number", "Value": "200"},
        "ErrorMessage": {"Type": "String", "Value": "asked to fail"},
    }


def test_on_failure_destination_and_dead_letter_queue_both_get_a_failed_event(
    stack: Stack,
) -> None:
    name = unique_name()
    dlq_url, dlq_arn = make_queue(stack)
    create_python_function(stack.client(), name, REPORTER, DeadLetterConfig={"TargetArn": dlq_arn})
    failure_url, failure_arn = make_queue(stack)
    stack.client().put_function_event_invoke_config(
        FunctionName=name,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": failure_arn}},
    )
    runs, _ = make_queue(stack)
    event = {"report_to": runs, "fail": True}
    invoke_event(stack, name, event)
    record = json.loads(receive(stack, failure_url, 1)[0]["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert json.loads(receive(stack, dlq_url, 1)[0]["Body"]) == event


def test_record_reaches_a_destination_function_as_its_event(stack: Stack) -> None:
    client = stack.client()
    forwarder = unique_name("dest")
    forwarder_arn = create_python_function(client, forwarder, FORWARDER)["FunctionArn"]
    name = reporter_sending_to(stack, "OnSuccess", forwarder_arn)
    runs, _ = make_queue(stack)
    forwarded, _ = make_queue(stack)
    event = {"report_to": runs, "forward_to": forwarded, "value": 3}
    response = invoke_event(stack, name, event)
    record = json.loads(receive(stack, forwarded, 1)[0]["Body"])
    assert record["requestContext"]["requestId"] == response["ResponseMetadata"]["RequestId"]
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["functionArn"].endswith(f":function:{name}:$LATEST")
    assert record["requestPayload"] == event
    assert record["responsePayload"] == {"ok": 3}


def test_record_reaches_an_eventbridge_bus_as_an_event(stack: Stack) -> None:
    events = stack.client("events")
    bus = unique_name("bus")
    bus_arn = events.create_event_bus(Name=bus)["EventBusArn"]
    rule = unique_name("rule")
    pattern = {"source": ["lambda"], "detail-type": ["Lambda Function Invocation Result - Success"]}
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps(pattern))
    routed, routed_arn = make_queue(stack)
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "q", "Arn": routed_arn}])
    name = reporter_sending_to(stack, "OnSuccess", bus_arn)
    runs, _ = make_queue(stack)
    invoke_event(stack, name, {"report_to": runs, "value": 5})
    delivered = json.loads(receive(stack, routed, 1)[0]["Body"])
    function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}:$LATEST"
    assert delivered["source"] == "lambda"
    assert delivered["detail-type"] == "Lambda Function Invocation Result - Success"
    assert delivered["resources"] == [bus_arn, function_arn]
    assert delivered["detail"]["requestContext"]["functionArn"] == function_arn
    assert delivered["detail"]["responsePayload"] == {"ok": 5}


OTHER_TABLE = "arn:aws:dynamodb:us-east-1:000000000000:table/t"
BUCKET = "arn:aws:s3:::records"
FUNCTIONS = "arn:aws:lambda:us-east-1:000000000000:function:"


@pytest.mark.parametrize(
    ("which", "destination", "code", "message"),
    [
        (
            "OnSuccess",
            OTHER_TABLE,
            "InvalidParameterValueException",
            "The provided destination config DestinationConfig(onSuccess=OnSuccess("
            f"destination={OTHER_TABLE}), onFailure=null) is invalid.",
        ),
        (
            "OnSuccess",  # an S3 bucket takes failure records only
            BUCKET,
            "InvalidParameterValueException",
            "The provided destination config DestinationConfig(onSuccess=OnSuccess("
            f"destination={BUCKET}), onFailure=null) is invalid.",
        ),
        (
            "OnFailure",
            FUNCTIONS + "missing-function",
            "InvalidParameterValueException",
            f"The destination ARN {FUNCTIONS}missing-function is invalid.",
        ),
        (
            "OnSuccess",
            FUNCTIONS + "{name}:$LATEST",
            "InvalidParameterValueException",
            "You can't specify the function as a destination for itself.",
        ),
        (
            "OnFailure",
            "not-an-arn",
            "ValidationException",
            "1 validation error detected: Value 'not-an-arn' at "
            "'destinationConfig.onFailure.destination' failed to satisfy constraint: Member "
            "must satisfy regular expression pattern: ",
        ),
    ],
)
def test_destinations_are_checked_as_aws_checks_them(
    stack: Stack, which: str, destination: str, code: str, message: str
) -> None:
    client = stack.client(validate=False)
    name = unique_name()
    create_python_function(client, name, REPORTER)
    config = {which: {"Destination": destination.replace("{name}", name)}}
    with pytest.raises(ClientError) as raised:
        client.put_function_event_invoke_config(FunctionName=name, DestinationConfig=config)
    error = raised.value.response["Error"]
    assert error["Code"] == code
    assert error["Message"].startswith(message)


def test_every_kind_of_destination_is_accepted(stack: Stack) -> None:
    client = stack.client()
    name = unique_name()
    create_python_function(client, name, REPORTER)
    other = create_python_function(client, unique_name("dest"), REPORTER)["FunctionArn"]
    accepted = [
        ("OnSuccess", "arn:aws:sqs:us-east-1:000000000000:q"),
        ("OnSuccess", "arn:aws:sns:us-east-1:000000000000:t"),
        ("OnSuccess", "arn:aws:events:us-east-1:000000000000:event-bus/default"),
        ("OnSuccess", f"{other}:$LATEST"),
        ("OnFailure", BUCKET),
    ]
    for which, arn in accepted:
        put = client.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={which: {"Destination": arn}}
        )
        assert put["DestinationConfig"][which] == {"Destination": arn}
