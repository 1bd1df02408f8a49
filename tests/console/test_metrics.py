"""AWS/Lambda metrics from the invocation records reach the companion's CloudWatch, where the
AWS CLI and boto3 read them as they read AWS's (boto3 for the waits: quicker than a process)."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest

from tests.api.test_concurrency_limits import reserve
from tests.api.test_event_source_mappings import make_stream
from tests.companion.test_cloudformation_wiring import aws
from tests.conftest import Stack
from tests.console.records import FAILING, wait_for_records
from tests.functions import create_python_function, unique_name
from tests.waiting import wait_for


def _window() -> tuple[datetime.datetime, datetime.datetime]:
    now = datetime.datetime.now(datetime.UTC)
    return now - datetime.timedelta(minutes=10), now + datetime.timedelta(minutes=2)


def statistics(stack: Stack, metric: str, statistic: str, *dimensions: str) -> float:
    """GetMetricStatistics over the last ten minutes, summed over its periods; `dimensions`
    as the AWS CLI writes them (Name=FunctionName,Value=f)."""
    start, end = _window()
    answer = stack.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName=metric,
        Statistics=[statistic],
        Period=60,
        StartTime=start,
        EndTime=end,
        Dimensions=[dict(part.split("=", 1) for part in d.split(",")) for d in dimensions],
    )
    return sum(float(point[statistic]) for point in answer["Datapoints"])


def cli_statistics(stack: Stack, metric: str, statistic: str, *dimensions: str) -> float:
    """The same, as `aws cloudwatch get-metric-statistics` answers it."""
    start, end = _window()
    done = aws(
        stack,
        *["cloudwatch", "get-metric-statistics", "--namespace", "AWS/Lambda"],
        *["--metric-name", metric, "--statistics", statistic, "--period", "60"],
        *["--start-time", start.isoformat(), "--end-time", end.isoformat()],
        *["--dimensions", *dimensions],
    )
    assert done.returncode == 0, done.stderr
    points: list[dict[str, Any]] = json.loads(done.stdout)["Datapoints"]
    return sum(float(point[statistic]) for point in points)


def wait_for_statistic(
    stack: Stack, metric: str, expected: float, *dimensions: str, statistic: str = "Sum"
) -> None:
    seen: list[float] = []

    def reached() -> bool:
        seen.append(statistics(stack, metric, statistic, *dimensions))
        return seen[-1] == expected

    try:
        wait_for(reached, 30, f"{metric} {statistic} of {expected}")
    except AssertionError as error:
        raise AssertionError(f"{error}; last seen {seen[-1:]}") from None


def test_invocations_errors_and_throttles_reach_cloudwatch(console_stack: Stack) -> None:
    stack, name = console_stack, unique_name()
    client = stack.client()
    create_python_function(client, name, "def handler(event, context):\n    return 1\n")
    for _ in range(4):
        client.invoke(FunctionName=name, Payload=b"{}")
    function = f"Name=FunctionName,Value={name}"
    wait_for_statistic(stack, "Invocations", 4, function)
    assert cli_statistics(stack, "Invocations", "Sum", function) == 4
    wait_for_statistic(stack, "Errors", 0, function)
    assert statistics(stack, "Duration", "SampleCount", function) == 4
    assert statistics(stack, "ConcurrentExecutions", "Maximum", function) >= 1
    reserve(client, name, 0)
    with pytest.raises(client.exceptions.TooManyRequestsException):
        client.invoke(FunctionName=name, Payload=b"{}")
    wait_for(lambda: statistics(stack, "Throttles", "Sum", function) >= 1, 30, "a throttle")
    assert statistics(stack, "Invocations", "Sum", function) == 4


def test_errors_and_a_qualified_resource_are_counted(console_stack: Stack) -> None:
    stack, name = console_stack, unique_name()
    client = stack.client()
    create_python_function(client, name, FAILING)
    version = client.publish_version(FunctionName=name)["Version"]
    client.get_waiter("function_active_v2").wait(
        FunctionName=name, Qualifier=version, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
    )
    client.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    for _ in range(2):
        client.invoke(FunctionName=name, Qualifier="live", Payload=b"{}")
    function = f"Name=FunctionName,Value={name}"
    wait_for_statistic(stack, "Errors", 2, function)
    wait_for_statistic(stack, "Invocations", 2, function, f"Name=Resource,Value={name}:live")


def test_a_dropped_event_is_received_aged_and_dropped(console_stack: Stack) -> None:
    stack, name = console_stack, unique_name()
    client = stack.client()
    create_python_function(client, name, FAILING)
    client.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    client.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    function = f"Name=FunctionName,Value={name}"
    wait_for_statistic(stack, "AsyncEventsDropped", 1, function)
    wait_for_statistic(stack, "AsyncEventsReceived", 1, function)
    assert statistics(stack, "Invocations", "Sum", function) == 2  # the attempt and its retry
    assert statistics(stack, "AsyncEventAge", "SampleCount", function) == 2
    assert statistics(stack, "AsyncEventAge", "Maximum", function) >= 200  # the retry's delay


def test_a_stream_batch_has_its_iterator_age(console_stack: Stack) -> None:
    stack, name = console_stack, unique_name()
    client = stack.client()
    create_python_function(client, name, "def handler(event, context):\n    return None\n")
    stream_arn = make_stream(stack)
    table = stream_arn.split(":table/", 1)[1].split("/", 1)[0]
    uuid = client.create_event_source_mapping(
        FunctionName=name, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON"
    )["UUID"]
    stack.client("dynamodb").put_item(TableName=table, Item={"id": {"S": "k1"}})
    batch = wait_for_records(stack, name, 1, trigger=f"esm:{uuid}")[0]
    assert batch["queued_ms"] is not None and batch["queued_ms"] <= batch["start_ms"]
    function = f"Name=FunctionName,Value={name}"
    wait_for_statistic(stack, "IteratorAge", 1, function, statistic="SampleCount")
    client.delete_event_source_mapping(UUID=uuid)
