"""DynamoDB Streams event source mappings on a real stack: boto3 creates the mapping, the
stack's event-source worker polls a moto table's stream, and the real pool runs a Python
function (process executor) that appends each event it gets to a file.

One test drives the StreamPoller directly, for what the API would refuse to set up.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import msgspec
import pytest
import redis
from redis.asyncio import Redis

from bus.aws import Companion
from bus.concurrency import inbox_with_limits
from bus.keys import Keys
from bus.records import EventSourceMapping
from bus.settings import Settings
from bus.stores import Stores
from tests.conftest import Stack
from tests.functions import create_python_function, unique_name
from tests.waiting import wait_for
from workers.event_sources.base import PollerContext
from workers.event_sources.dynamodb import StreamPoller
from workers.event_sources.dynamodb.checkpoints import ShardCheckpoint

# Appends each batch it gets to $RECEIVED, one JSON line per invocation. A record whose new
# image has `fail` fails the invocation; one with `fail_once` is reported as a batch item
# failure the first time it is seen (a marker file under $MARKERS remembers).
RECORDER = """
import json
import os

def handler(event, context):
    with open(os.environ["RECEIVED"], "a") as received:
        received.write(json.dumps(event["Records"]) + "\\n")
    failures = []
    for record in event["Records"]:
        image = record["dynamodb"].get("NewImage", {})
        if "fail" in image:
            raise ValueError("asked to fail")
        if "fail_once" in image:
            marker = os.path.join(os.environ["MARKERS"], record["dynamodb"]["Keys"]["id"]["S"])
            if not os.path.exists(marker):
                open(marker, "w").close()
                failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
    return {"batchItemFailures": failures}
"""
WAIT_S = 30
KEY_PREFIX = Settings().key_prefix  # the stack's


class Setup:
    """One test's table, function, received-events file and mappings."""

    def __init__(self, stack: Stack, folder: Path) -> None:
        self.stack = stack
        self.ddb = stack.client("dynamodb")
        self.lambda_client = stack.client()
        self.table = unique_name("table")
        created = self.ddb.create_table(
            TableName=self.table,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        self.stream_arn = created["TableDescription"]["LatestStreamArn"]
        self.received_path = folder / "received.jsonl"
        (folder / "markers").mkdir()
        self.function = unique_name()
        variables = {"RECEIVED": str(self.received_path), "MARKERS": str(folder / "markers")}
        self.function_arn = create_python_function(
            self.lambda_client, self.function, RECORDER, Environment={"Variables": variables}
        )["FunctionArn"]
        self.redis = redis.Redis(unix_socket_path=str(stack.data_dir / "redis.sock"))
        self.mappings: list[str] = []

    def put(self, key: str, **attributes: str) -> None:
        item = {"id": {"S": key}} | {name: {"S": value} for name, value in attributes.items()}
        self.ddb.put_item(TableName=self.table, Item=item)

    def delete(self, key: str) -> None:
        self.ddb.delete_item(TableName=self.table, Key={"id": {"S": key}})

    def batches(self) -> list[list[dict[str, Any]]]:
        """What the function received, one list of records per invocation."""
        if not self.received_path.exists():
            return []
        return [json.loads(line) for line in self.received_path.read_text().splitlines()]

    def keys_received(self) -> list[list[str]]:
        return [[r["dynamodb"]["Keys"]["id"]["S"] for r in batch] for batch in self.batches()]

    def map(self, **parameters: Any) -> str:
        """CreateEventSourceMapping for the stream (TRIM_HORIZON unless told); its UUID, once
        Enabled."""
        parameters = {"StartingPosition": "TRIM_HORIZON"} | parameters
        created = self.lambda_client.create_event_source_mapping(
            EventSourceArn=self.stream_arn, FunctionName=self.function, **parameters
        )
        self.mappings.append(created["UUID"])
        assert created["BatchSize"] == parameters.get("BatchSize", 100)
        self.wait_until_state(created["UUID"], "Enabled")
        return str(created["UUID"])

    def wait_until_state(self, mapping_uuid: str, state: str) -> None:
        def reached() -> bool:
            got = self.lambda_client.get_event_source_mapping(UUID=mapping_uuid)
            return bool(got["State"] == state)

        wait_for(reached, WAIT_S, f"mapping {mapping_uuid} {state}")

    def checkpoints(self, mapping_uuid: str) -> dict[str, ShardCheckpoint]:
        raw = self.redis.hgetall(Keys(KEY_PREFIX).stream_checkpoints(mapping_uuid))
        return {k.decode(): msgspec.msgpack.decode(v, type=ShardCheckpoint) for k, v in raw.items()}

    def started(self, mapping_uuid: str) -> bool:
        """The mapping's poller has taken its starting position."""
        return bool(self.redis.exists(Keys(KEY_PREFIX).stream_started(mapping_uuid)))

    def record(self, **fields: Any) -> EventSourceMapping:
        """A mapping record for a poller run by the test itself (not stored)."""
        fields = {"batch_size": 100, "starting_position": "TRIM_HORIZON"} | fields
        return EventSourceMapping(
            uuid=str(uuid.uuid4()),
            event_source_arn=self.stream_arn,
            function_name=self.function,
            function_arn=self.function_arn,
            state="Enabled",
            **fields,
        )

    def close(self) -> None:
        for mapping_uuid in self.mappings:
            self.lambda_client.delete_event_source_mapping(UUID=mapping_uuid)
        self.redis.close()


@pytest.fixture
def setup(stack: Stack, tmp_path: Path) -> Iterator[Setup]:
    made = Setup(stack, tmp_path)
    yield made
    made.close()


def until(check: Callable[[], bool], what: str = "records") -> None:
    wait_for(check, WAIT_S, what)


def queue(stack: Stack) -> tuple[str, str]:
    sqs = stack.client("sqs")
    url = sqs.create_queue(QueueName=unique_name("q"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return url, arn["QueueArn"]


def receive_one(stack: Stack, url: str) -> dict[str, Any]:
    """The next message on the queue, decoded, or fail after WAIT_S."""
    sqs = stack.client("sqs")
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
        if messages:
            return dict(json.loads(messages[0]["Body"]))
    raise AssertionError(f"nothing arrived on {url} in {WAIT_S} s")


def shard_of(stack: Stack, stream_arn: str) -> str:
    description = stack.client("dynamodbstreams").describe_stream(StreamArn=stream_arn)
    return str(description["StreamDescription"]["Shards"][0]["ShardId"])


def test_changes_arrive_in_order_with_their_images(stack: Stack, setup: Setup) -> None:
    setup.put("a", colour="red")
    setup.put("a", colour="blue")
    setup.put("b", colour="green")
    setup.delete("a")
    setup.map(BatchSize=2)
    until(lambda: sum(map(len, setup.batches())) >= 4)
    assert setup.keys_received() == [["a", "a"], ["b", "a"]]  # BatchSize 2
    records = [record for batch in setup.batches() for record in batch]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "INSERT", "REMOVE"]
    insert, modify, _, remove = (r["dynamodb"] for r in records)
    assert insert["NewImage"] == {"id": {"S": "a"}, "colour": {"S": "red"}}
    assert "OldImage" not in insert
    assert modify["OldImage"]["colour"] == {"S": "red"}
    assert modify["NewImage"]["colour"] == {"S": "blue"}
    assert remove["OldImage"]["colour"] == {"S": "blue"} and "NewImage" not in remove
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert numbers == sorted(numbers) and len(set(numbers)) == 4
    for record in records:
        assert list(record) == [
            "eventID",
            "eventName",
            "eventVersion",
            "eventSource",
            "awsRegion",
            "dynamodb",
            "eventSourceARN",
        ]
        assert record["eventSource"] == "aws:dynamodb"
        assert record["eventSourceARN"] == setup.stream_arn
        assert record["awsRegion"] == "us-east-1"
        assert record["dynamodb"]["Keys"] == {"id": record["dynamodb"]["Keys"]["id"]}
        assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert record["dynamodb"]["SizeBytes"] > 0
        created = record["dynamodb"]["ApproximateCreationDateTime"]
        assert created == int(created) and created > 1.7e9  # whole epoch seconds


def test_latest_starts_after_what_was_there(stack: Stack, setup: Setup) -> None:
    setup.put("before")
    mapping_uuid = setup.map(StartingPosition="LATEST")
    until(lambda: setup.started(mapping_uuid), "the starting position")
    setup.put("after")
    until(lambda: setup.keys_received() == [["after"]])
    time.sleep(1)  # and nothing else comes
    assert setup.keys_received() == [["after"]]


def test_reenabled_mapping_resumes_from_its_checkpoint(stack: Stack, setup: Setup) -> None:
    mapping_uuid = setup.map(StartingPosition="LATEST")
    until(lambda: setup.started(mapping_uuid), "the starting position")
    setup.put("first")
    until(lambda: setup.keys_received() == [["first"]])
    setup.lambda_client.update_event_source_mapping(UUID=mapping_uuid, Enabled=False)
    setup.wait_until_state(mapping_uuid, "Disabled")
    setup.put("while-disabled")
    time.sleep(1)
    assert setup.keys_received() == [["first"]]
    setup.lambda_client.update_event_source_mapping(UUID=mapping_uuid, Enabled=True)
    until(lambda: len(setup.batches()) == 2)
    time.sleep(1)
    assert setup.keys_received() == [["first"], ["while-disabled"]]


def test_failing_batch_bisects_then_goes_to_on_failure(stack: Stack, setup: Setup) -> None:
    url, queue_arn = queue(stack)
    for key in ("ok1", "bad", "ok2", "ok3"):
        setup.put(key, **({"fail": "yes"} if key == "bad" else {}))
    setup.map(
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    record = receive_one(stack, url)
    until(lambda: ["ok2", "ok3"] in setup.keys_received())
    assert setup.keys_received() == [
        ["ok1", "bad", "ok2", "ok3"],
        ["ok1", "bad"],  # bisected
        ["ok1"],
        ["bad"],
        ["bad"],  # its one retry
        ["ok2", "ok3"],
    ]
    bad = setup.batches()[3][0]["dynamodb"]
    assert record["requestContext"] == {
        "requestId": record["requestContext"]["requestId"],
        "functionArn": setup.function_arn,
        "condition": "RetryAttemptsExhausted",
        "approximateInvokeCount": 4,
    }
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["version"] == "1.0"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["timestamp"])
    info = record["DDBStreamBatchInfo"]
    arrived = info.pop("approximateArrivalOfFirstRecord")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", arrived)
    assert info == {
        "shardId": shard_of(stack, setup.stream_arn),
        "startSequenceNumber": bad["SequenceNumber"],
        "endSequenceNumber": bad["SequenceNumber"],
        "approximateArrivalOfLastRecord": arrived,
        "batchSize": 1,
        "streamArn": setup.stream_arn,
    }


def test_on_failure_topic_gets_the_record(stack: Stack, setup: Setup) -> None:
    sns = stack.client("sns")
    topic_arn = sns.create_topic(Name=unique_name("topic"))["TopicArn"]
    url, queue_arn = queue(stack)
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    setup.put("bad", fail="yes")
    setup.map(MaximumRetryAttempts=0, DestinationConfig={"OnFailure": {"Destination": topic_arn}})
    record = json.loads(receive_one(stack, url)["Message"])
    assert setup.keys_received() == [["bad"]]  # no retries
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["DDBStreamBatchInfo"]["streamArn"] == setup.stream_arn


def test_item_failures_resume_from_the_failed_item(stack: Stack, setup: Setup) -> None:
    for key in ("r1", "r2", "r3", "r4", "r5"):
        setup.put(key, **({"fail_once": "yes"} if key == "r3" else {}))
    mapping_uuid = setup.map(FunctionResponseTypes=["ReportBatchItemFailures"])
    until(lambda: len(setup.batches()) == 2)
    r5 = setup.batches()[0][-1]["dynamodb"]["SequenceNumber"]
    until(lambda: [c.sequence_number for c in setup.checkpoints(mapping_uuid).values()] == [r5])
    time.sleep(1)  # and nothing more comes
    assert setup.keys_received() == [["r1", "r2", "r3", "r4", "r5"], ["r3", "r4", "r5"]]


def test_filter_criteria_skip_and_checkpoint(stack: Stack, setup: Setup) -> None:
    setup.put("a")
    setup.put("a", colour="red")
    setup.put("b")
    setup.put("b", colour="blue")
    stream = stack.client("dynamodbstreams")
    shard_id = shard_of(stack, setup.stream_arn)
    iterator = stream.get_shard_iterator(
        StreamArn=setup.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    last = stream.get_records(ShardIterator=iterator)["Records"][-1]["dynamodb"]["SequenceNumber"]
    pattern = json.dumps({"eventName": ["INSERT"]})
    mapping_uuid = setup.map(FilterCriteria={"Filters": [{"Pattern": pattern}]})

    def skipped_to_the_end() -> bool:
        checkpoint = setup.checkpoints(mapping_uuid).get(shard_id)
        return checkpoint is not None and checkpoint.sequence_number == last

    until(skipped_to_the_end, "the checkpoint past the filtered records")
    assert setup.keys_received() == [["a", "b"]]
    assert all(r["eventName"] == "INSERT" for r in setup.batches()[0])


def test_batching_window_gathers_records(stack: Stack, setup: Setup) -> None:
    mapping_uuid = setup.map(StartingPosition="LATEST", MaximumBatchingWindowInSeconds=3)
    until(lambda: setup.started(mapping_uuid), "the starting position")
    for key in ("w1", "w2", "w3"):
        setup.put(key)
        time.sleep(0.3)
    until(lambda: bool(setup.batches()))
    assert setup.keys_received() == [["w1", "w2", "w3"]]


@asynccontextmanager
async def polling(stack: Stack, mapping: EventSourceMapping) -> AsyncIterator[None]:
    """The mapping's StreamPoller running here, with a reply inbox, on the stack's Redis and
    port, as the event-source worker runs it."""
    settings = Settings(data_dir=str(stack.data_dir), aws_endpoint=stack.url)
    client = Redis.from_url(f"unix://{stack.data_dir / 'redis.sock'}")
    keys = Keys(settings.key_prefix)
    companion = Companion(stack.url, settings.region)
    inbox = inbox_with_limits(client, keys, settings)
    await inbox.open()
    stores = Stores.create(client, keys)
    context = PollerContext(settings, client, keys, stores, companion, inbox)
    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(inbox.run)
            tasks.start_soon(StreamPoller(context, mapping).run)
            yield
            tasks.cancel_scope.cancel()
    finally:
        await companion.aclose()
        await client.aclose()


@pytest.mark.anyio
async def test_records_past_maximum_age_go_to_on_failure(stack: Stack, setup: Setup) -> None:
    """The API takes MaximumRecordAgeInSeconds from 60 up; the poller itself, any age."""
    url, queue_arn = queue(stack)
    setup.put("old")
    await anyio.sleep(4.2)  # creation times are whole seconds: older than 3 by now
    mapping = setup.record(maximum_record_age_s=3, on_failure=queue_arn)
    async with polling(stack, mapping):
        record = await anyio.to_thread.run_sync(receive_one, stack, url)
        await anyio.to_thread.run_sync(setup.put, "fresh")
        await anyio.to_thread.run_sync(until, lambda: bool(setup.batches()))
    assert setup.keys_received() == [["fresh"]]
    assert record["requestContext"]["condition"] == "RecordAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert record["DDBStreamBatchInfo"]["batchSize"] == 1


@pytest.mark.anyio
async def test_refused_stored_iterator_starts_again_at_latest(stack: Stack, setup: Setup) -> None:
    """A LATEST start stores the stream's iterator until a record is processed; when the
    endpoint no longer knows it (expired after 15 minutes on AWS), a new LATEST is taken."""
    mapping = setup.record(starting_position="LATEST")
    keys, shard_id = Keys(KEY_PREFIX), shard_of(stack, setup.stream_arn)
    setup.redis.set(keys.stream_started(mapping.uuid), b"1")
    expired = msgspec.msgpack.encode(ShardCheckpoint(iterator="expired"))
    setup.redis.hset(keys.stream_checkpoints(mapping.uuid), shard_id, expired)
    setup.put("before")

    def replaced() -> bool:
        checkpoint = setup.checkpoints(mapping.uuid)[shard_id]
        return checkpoint.iterator not in (None, "expired")

    async with polling(stack, mapping):
        await anyio.to_thread.run_sync(until, replaced, "a new LATEST iterator")
        await anyio.to_thread.run_sync(setup.put, "after")
        await anyio.to_thread.run_sync(until, lambda: bool(setup.batches()))
    assert setup.keys_received() == [["after"]]
