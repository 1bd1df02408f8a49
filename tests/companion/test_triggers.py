"""S3 notifications, SNS subscriptions, EventBridge rules and schedules and log subscription
filters invoke the function in Tarn, asynchronously, with the events AWS sends."""

from __future__ import annotations

import base64
import gzip
import json
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Stack
from tests.functions import create_python_function, unique_name
from tests.waiting import wait_for

# Appends each event it gets to the file its environment names.
RECORDER = """
import json, os

def handler(event, context):
    with open(os.environ["EVENTS_FILE"], "a") as file:
        file.write(json.dumps(event) + "\\n")
"""


def recorder(stack: Stack, folder: Path, code: str = RECORDER) -> tuple[str, Path]:
    """A function that records its events; its ARN and the file."""
    events = folder / f"{unique_name('events')}.jsonl"
    name = unique_name()
    response = create_python_function(
        stack.client(), name, code, Environment={"Variables": {"EVENTS_FILE": str(events)}}
    )
    return response["FunctionArn"], events


def allow(stack: Stack, function: str, service: str, source_arn: str) -> None:
    """The permission AWS asks of a function before `service` delivers to it."""
    stack.client().add_permission(
        FunctionName=function,
        StatementId=unique_name("allow"),
        Action="lambda:InvokeFunction",
        Principal=service,
        SourceArn=source_arn,
    )


def events_in(events: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in events.read_text().splitlines()] if events.exists() else []


def first_event(events: Path) -> dict[str, Any]:
    wait_for(lambda: events_in(events) != [], 30, "the invocation")
    return events_in(events)[0]


def test_an_object_put_invokes_the_function_with_the_s3_event(stack: Stack, tmp_path: Path) -> None:
    arn, events = recorder(stack, tmp_path)
    s3, bucket = stack.client("s3"), unique_name("bucket")
    s3.create_bucket(Bucket=bucket)
    allow(stack, arn, "s3.amazonaws.com", f"arn:aws:s3:::{bucket}")
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"Id": "to-tarn", "LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    s3.put_object(Bucket=bucket, Key="in/a b.txt", Body=b"hello")
    (record,) = first_event(events)["Records"]
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["configurationId"] == "to-tarn"
    assert record["s3"]["bucket"]["name"] == bucket
    assert record["s3"]["object"]["key"] == "in/a+b.txt"  # URL-encoded, as AWS sends it
    assert record["s3"]["object"]["size"] == 5
    assert "principalId" in record["userIdentity"]


def test_a_failing_triggered_function_retries_then_lands_in_its_on_failure_queue(
    stack: Stack, tmp_path: Path
) -> None:
    failing = (
        RECORDER + "    raise RuntimeError('cannot take ' + event['Records'][0]['eventName'])\n"
    )
    arn, events = recorder(stack, tmp_path, failing)
    sqs = stack.client("sqs")
    queue = sqs.create_queue(QueueName=unique_name("failed"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    stack.client().put_function_event_invoke_config(
        FunctionName=arn,
        MaximumRetryAttempts=1,  # the stack retries after 0.2 s (TARN_ASYNC_RETRY_BASE_S)
        DestinationConfig={"OnFailure": {"Destination": queue_arn["Attributes"]["QueueArn"]}},
    )
    s3, bucket = stack.client("s3"), unique_name("bucket")
    s3.create_bucket(Bucket=bucket)
    allow(stack, arn, "s3.amazonaws.com", f"arn:aws:s3:::{bucket}")
    configuration = {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={"LambdaFunctionConfigurations": [configuration]},
    )
    s3.put_object(Bucket=bucket, Key="doomed.txt", Body=b"x")

    received = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=20).get("Messages", [])
    assert received, "no failure record within 20 s"
    record = json.loads(received[0]["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestContext"]["functionArn"] == f"{arn}:$LATEST"
    assert record["requestPayload"]["Records"][0]["s3"]["object"]["key"] == "doomed.txt"
    assert record["responsePayload"]["errorMessage"] == "cannot take ObjectCreated:Put"
    assert len(events_in(events)) == 2  # the first attempt and its one retry


def test_a_publish_invokes_the_subscribed_function_with_the_sns_record(
    stack: Stack, tmp_path: Path
) -> None:
    arn, events = recorder(stack, tmp_path)
    sns = stack.client("sns")
    topic = sns.create_topic(Name=unique_name("topic"))["TopicArn"]
    allow(stack, arn, "sns.amazonaws.com", topic)
    subscription = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn)
    message_id = sns.publish(
        TopicArn=topic,
        Message="hello",
        Subject="greeting",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "test"}},
    )["MessageId"]
    (record,) = first_event(events)["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["EventSubscriptionArn"] == subscription["SubscriptionArn"]
    sent = record["Sns"]
    assert (sent["TopicArn"], sent["MessageId"], sent["Message"]) == (topic, message_id, "hello")
    assert sent["Subject"] == "greeting"
    assert sent["MessageAttributes"] == {"kind": {"Type": "String", "Value": "test"}}


def test_a_topic_the_resource_policy_does_not_name_invokes_nothing(
    stack: Stack, tmp_path: Path
) -> None:
    arn, events = recorder(stack, tmp_path)
    sns = stack.client("sns")
    allowed, other = (sns.create_topic(Name=unique_name("topic"))["TopicArn"] for _ in "ab")
    allow(stack, arn, "sns.amazonaws.com", allowed)
    sns.subscribe(TopicArn=other, Protocol="lambda", Endpoint=arn)
    sns.publish(TopicArn=other, Message="not for you")
    sns.subscribe(TopicArn=allowed, Protocol="lambda", Endpoint=arn)
    sns.publish(TopicArn=allowed, Message="for you")
    assert first_event(events)["Records"][0]["Sns"]["Message"] == "for you"
    time.sleep(1)  # the refused one would have come first, or by now
    assert [e["Records"][0]["Sns"]["Message"] for e in events_in(events)] == ["for you"]


def test_an_event_matching_a_rule_invokes_its_function_target(stack: Stack, tmp_path: Path) -> None:
    arn, events = recorder(stack, tmp_path)
    eventbridge, rule, source = stack.client("events"), unique_name("rule"), unique_name("app")
    rule_arn = eventbridge.put_rule(Name=rule, EventPattern=json.dumps({"source": [source]}))
    allow(stack, arn, "events.amazonaws.com", rule_arn["RuleArn"])
    eventbridge.put_targets(Rule=rule, Targets=[{"Id": "fn", "Arn": arn}])
    eventbridge.put_events(
        Entries=[
            {"Source": "other", "DetailType": "ignored", "Detail": "{}"},
            {"Source": source, "DetailType": "order placed", "Detail": json.dumps({"id": 7})},
        ]
    )
    event = first_event(events)
    assert (event["source"], event["detail-type"], event["detail"]) == (
        source,
        "order placed",
        {"id": 7},
    )
    assert event["account"] == "000000000000"
    assert event["time"].endswith("Z")
    assert set(event) == {
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    }


def test_a_log_subscription_filter_invokes_the_function_with_awslogs_data(
    stack: Stack, tmp_path: Path
) -> None:
    arn, events = recorder(stack, tmp_path)
    logs, group = stack.client("logs"), f"/app/{unique_name()}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    with pytest.raises(ClientError) as missing:  # the destination is looked up in Tarn
        logs.put_subscription_filter(
            logGroupName=group, filterName="f", filterPattern="", destinationArn=arn + "-gone"
        )
    assert missing.value.response["Error"]["Code"] == "InvalidParameterException"
    logs.put_subscription_filter(
        logGroupName=group, filterName="to-tarn", filterPattern="", destinationArn=arn
    )
    logs.put_log_events(
        logGroupName=group,
        logStreamName="s",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": "hello"}],
    )
    data = json.loads(gzip.decompress(base64.b64decode(first_event(events)["awslogs"]["data"])))
    assert (data["messageType"], data["logGroup"], data["logStream"]) == (
        "DATA_MESSAGE",
        group,
        "s",
    )
    assert data["subscriptionFilters"] == ["to-tarn"]
    assert [e["message"] for e in data["logEvents"]] == ["hello"]


def scheduled(stack: Stack, expression: str, targets: list[dict[str, Any]]) -> str:
    """A rule on `expression` with `targets`; its ARN. The test stack's schedule clock runs 60
    times faster (TARN_SCHEDULE_SPEEDUP), so a minute passes every second."""
    eventbridge, rule = stack.client("events"), unique_name("schedule")
    arn = eventbridge.put_rule(Name=rule, ScheduleExpression=expression)["RuleArn"]
    for target in targets:
        if ":lambda:" in target["Arn"]:
            allow(stack, target["Arn"], "events.amazonaws.com", arn)
    eventbridge.put_targets(Rule=rule, Targets=targets)
    return str(arn)


def unschedule(stack: Stack, arn: str) -> None:
    eventbridge, rule = stack.client("events"), arn.rsplit("/", 1)[1]
    targets = eventbridge.list_targets_by_rule(Rule=rule)["Targets"]
    eventbridge.remove_targets(Rule=rule, Ids=[t["Id"] for t in targets])
    eventbridge.delete_rule(Name=rule)


def test_a_rate_schedule_invokes_its_function_target_with_the_scheduled_event(
    stack: Stack, tmp_path: Path
) -> None:
    function, events = recorder(stack, tmp_path)
    rule = scheduled(stack, "rate(1 minute)", [{"Id": "fn", "Arn": function}])
    try:
        wait_for(lambda: len(events_in(events)) >= 2, 30, "two scheduled invocations")
    finally:
        unschedule(stack, rule)
    first, second = events_in(events)[:2]
    assert (first["source"], first["detail-type"], first["detail"]) == (
        "aws.events",
        "Scheduled Event",
        {},
    )
    assert first["resources"] == [rule]
    assert (first["account"], first["region"]) == ("000000000000", "us-east-1")
    assert first["time"] < second["time"] and first["id"] != second["id"]


def test_a_cron_schedule_reaches_a_function_and_a_queue_and_stops_when_disabled(
    stack: Stack, tmp_path: Path
) -> None:
    function, events = recorder(stack, tmp_path)
    sqs = stack.client("sqs")
    queue = sqs.create_queue(QueueName=unique_name("scheduled"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    targets = [
        {"Id": "fn", "Arn": function},
        {"Id": "queue", "Arn": queue_arn["Attributes"]["QueueArn"]},
    ]
    rule = scheduled(stack, "cron(* * ? * SUN-SAT *)", targets)
    try:
        first_event(events)
        received = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=10)["Messages"]
        assert json.loads(received[0]["Body"])["detail-type"] == "Scheduled Event"
        stack.client("events").disable_rule(Name=rule.rsplit("/", 1)[1])
        time.sleep(1)  # a firing already under way lands
        fired = len(events_in(events))
        time.sleep(2)  # two minutes of the test clock
        assert len(events_in(events)) == fired
    finally:
        unschedule(stack, rule)
    assert first_event(events)["time"].endswith(":00Z")  # on the minute, as cron fires


@pytest.mark.parametrize(
    "expression", ["cron(0 10 * * *)", "cron(0 10 * * * *)", "rate(1 minutes)"]
)
def test_a_schedule_eventbridge_would_refuse_is_refused(stack: Stack, expression: str) -> None:
    with pytest.raises(ClientError) as refused:
        stack.client("events").put_rule(Name=unique_name("rule"), ScheduleExpression=expression)
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"] == "Parameter ScheduleExpression is not valid."
