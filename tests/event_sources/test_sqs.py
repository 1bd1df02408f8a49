"""SQS event source mappings on the session's stack: its event-source worker polls a moto queue
and runs a real Python function (process executor) that records every event it gets.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Stack
from tests.event_sources.sqs_stack import Mappings, Setup, make_queue, md5
from tests.waiting import wait_for


@pytest.fixture
def mappings(stack: Stack) -> Iterator[Mappings]:
    store = Mappings(stack)
    yield store
    store.close()


def test_messages_reach_the_function_in_batches_and_leave_the_queue(
    stack: Stack, tmp_path: Path, mappings: Mappings
) -> None:
    setup = Setup(stack, tmp_path)
    mapping = mappings.create(setup, BatchSize=5)
    mappings.wait_for_state(mapping, "Enabled")
    attributes = {"colour": {"DataType": "String", "StringValue": "red"}}
    sent = setup.send(*[f"m{n}" for n in range(12)], MessageAttributes=attributes)
    assert sorted(setup.wait_for_bodies(12)) == sorted(f"m{n}" for n in range(12))
    wait_for(lambda: setup.depth() == 0, 10, "the queue to empty")
    assert all(len(entry["records"]) <= 5 for entry in setup.invocations())
    first = setup.invocations()[0]["records"][0]
    assert first["messageId"] in sent
    assert first["md5OfBody"] == md5(first["body"])
    assert (first["eventSource"], first["eventSourceARN"], first["awsRegion"]) == (
        "aws:sqs",
        setup.queue_arn,
        "us-east-1",
    )
    assert first["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(
        first["attributes"]
    )
    assert first["messageAttributes"] == {
        "colour": {
            "stringValue": "red",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        }
    }
    assert first["receiptHandle"]


def test_partial_batch_failure_leaves_exactly_the_failed_messages_for_the_redrive_policy(
    stack: Stack, tmp_path: Path, mappings: Mappings
) -> None:
    dlq_url, dlq_arn = make_queue(stack)
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    setup = Setup(
        stack,
        tmp_path,
        queue_attributes={"VisibilityTimeout": "1", "RedrivePolicy": redrive},
        env={"FAIL_PREFIX": "bad"},
    )
    mappings.create(setup, BatchSize=10, FunctionResponseTypes=["ReportBatchItemFailures"])
    setup.send("good-1", "bad-1", "good-2", "bad-2", "good-3")
    # Each failed message is tried twice (maxReceiveCount), then SQS moves it to the DLQ.
    wait_for(lambda: setup.depth(dlq_url) == 2, 30, "the failed messages in the DLQ")
    dead = setup.sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(message["Body"] for message in dead) == ["bad-1", "bad-2"]
    assert setup.depth() == 0
    bodies = setup.bodies()
    assert sorted(b for b in bodies if b.startswith("good")) == ["good-1", "good-2", "good-3"]
    assert sorted(b for b in bodies if b.startswith("bad")) == ["bad-1", "bad-1", "bad-2", "bad-2"]


def test_function_error_deletes_nothing_and_the_batch_comes_back(
    stack: Stack, tmp_path: Path, mappings: Mappings
) -> None:
    setup = Setup(
        stack, tmp_path, queue_attributes={"VisibilityTimeout": "1"}, env={"RAISE_PREFIX": "boom"}
    )
    mapping = mappings.create(setup, BatchSize=10)
    setup.send("boom")
    wait_for(lambda: len(setup.invocations()) >= 2, 20, "the failed batch to come back")
    assert setup.bodies()[:2] == ["boom", "boom"]
    counts = [e["records"][0]["attributes"]["ApproximateReceiveCount"] for e in setup.invocations()]
    assert counts[:2] == ["1", "2"]
    assert setup.depth() == 1
    assert mappings.update(mapping, Enabled=False) == "Disabling"
    mappings.wait_for_state(mapping, "Disabled")


def test_filter_drops_what_it_should_and_deletes_it(
    stack: Stack, tmp_path: Path, mappings: Mappings
) -> None:
    setup = Setup(stack, tmp_path)
    patterns = [json.dumps({"body": {"kind": ["order"]}}), json.dumps({"body": ["ping"]})]
    filters = {"Filters": [{"Pattern": pattern} for pattern in patterns]}
    mappings.create(setup, BatchSize=10, FilterCriteria=filters)
    orders = [json.dumps({"kind": "order", "n": n}) for n in range(3)]
    others = [json.dumps({"kind": "refund"}), "plain text", json.dumps(["order"])]
    setup.send(*others[:2], orders[0], "ping", *orders[1:], others[2])
    wait_for(lambda: setup.depth() == 0, 20, "every message to leave the queue")
    time.sleep(0.5)  # any invocation still running records by now
    assert sorted(setup.bodies()) == sorted([*orders, "ping"])


def test_fifo_queue_keeps_order_per_message_group(
    stack: Stack, tmp_path: Path, mappings: Mappings
) -> None:
    setup = Setup(
        stack,
        tmp_path,
        fifo=True,
        queue_attributes={"ContentBasedDeduplication": "false"},
        env={"SLEEP_S": "0.05"},
    )
    mappings.create(setup, BatchSize=3)
    groups = ["a", "b", "c"]
    for group in groups:
        setup.send(*[f"{group}{n:02d}" for n in range(12)], group=group)
    bodies = setup.wait_for_bodies(36)
    wait_for(lambda: setup.depth() == 0, 10, "the queue to empty")
    for group in groups:
        seen = [body for body in bodies if body.startswith(group)]
        assert seen == [f"{group}{n:02d}" for n in range(12)], seen
    records = [r for entry in setup.invocations() for r in entry["records"]]
    assert {r["attributes"]["MessageGroupId"] for r in records} == set(groups)


def test_maximum_concurrency_bounds_the_batches_in_flight(
    stack: Stack, tmp_path: Path, mappings: Mappings
) -> None:
    bounded = Setup(stack, tmp_path, env={"SLEEP_S": "0.6"})
    free = Setup(stack, tmp_path, env={"SLEEP_S": "0.6"})
    mappings.create(bounded, BatchSize=1, ScalingConfig={"MaximumConcurrency": 2})
    mappings.create(free, BatchSize=1)
    for setup in (bounded, free):
        setup.send(*[f"m{n}" for n in range(8)])
    for setup in (bounded, free):
        setup.wait_for_bodies(8, timeout_s=40)
    assert _most_at_once(bounded) == 2
    assert _most_at_once(free) >= 3  # several batches in flight


def _most_at_once(setup: Setup) -> int:
    spans = [(entry["start"], entry["end"]) for entry in setup.invocations()]
    return max(sum(1 for s, e in spans if s <= start < e) for start, _ in spans)


def test_batching_window_gathers_up_to_the_batch_size(
    stack: Stack, tmp_path: Path, mappings: Mappings
) -> None:
    setup = Setup(stack, tmp_path)
    mappings.create(setup, BatchSize=15, MaximumBatchingWindowInSeconds=3)
    setup.send(*[f"m{n}" for n in range(15)])
    setup.wait_for_bodies(15)
    assert [len(entry["records"]) for entry in setup.invocations()] == [15]


def test_states_settle_and_a_disabled_mapping_stops_delivering(
    stack: Stack, tmp_path: Path, mappings: Mappings
) -> None:
    setup = Setup(stack, tmp_path)
    mapping = mappings.create(setup, Enabled=False)
    mappings.wait_for_state(mapping, "Disabled")
    setup.send("while-disabled")
    time.sleep(1.5)
    assert setup.bodies() == []
    assert mappings.update(mapping, Enabled=True) == "Enabling"
    mappings.wait_for_state(mapping, "Enabled")
    setup.wait_for_bodies(1)
    wait_for(lambda: setup.depth() == 0, 10, "the queue to empty")

    assert mappings.update(mapping, Enabled=False) == "Disabling"
    started = time.monotonic()
    mappings.wait_for_state(mapping, "Disabled")
    assert time.monotonic() - started < 1.0
    setup.send("after-disable")
    time.sleep(2)
    assert setup.bodies() == ["while-disabled"]
    assert setup.depth() == 1
    # A receive still waiting when the poller stopped hands back what it got, so the message
    # comes as soon as the mapping is enabled again, not after the visibility timeout (30 s).
    assert mappings.update(mapping, Enabled=True) == "Enabling"
    assert setup.wait_for_bodies(2, timeout_s=10) == ["while-disabled", "after-disable"]
    mappings.wait_for_state(mapping, "Enabled")

    assert mappings.delete(mapping) == "Deleting"
    mappings.wait_for_state(mapping, None)
    assert mappings.owner(mapping) is None


def test_configuration_change_restarts_the_poller_with_it(
    stack: Stack, tmp_path: Path, mappings: Mappings
) -> None:
    setup = Setup(stack, tmp_path)
    mapping = mappings.create(setup, BatchSize=1)
    mappings.wait_for_state(mapping, "Enabled")
    setup.send("one")
    setup.wait_for_bodies(1)
    assert mappings.update(mapping, BatchSize=10, MaximumBatchingWindowInSeconds=2) == "Updating"
    mappings.wait_for_state(mapping, "Enabled")
    setup.send(*[f"m{n}" for n in range(10)])
    setup.wait_for_bodies(11)
    assert [len(entry["records"]) for entry in setup.invocations()] == [1, 10]


def test_a_mapping_whose_queue_is_gone_says_so_and_recovers_when_it_is_back(
    stack: Stack, tmp_path: Path, mappings: Mappings
) -> None:
    setup = Setup(stack, tmp_path)
    mapping = mappings.create(setup)
    mappings.wait_for_state(mapping, "Enabled")
    name = setup.queue_url.rsplit("/", 1)[1]
    setup.sqs.delete_queue(QueueUrl=setup.queue_url)
    result = lambda: str((mappings.get(mapping) or {}).get("StateTransitionReason"))  # noqa: E731
    wait_for(lambda: result().startswith("PROBLEM: "), 15, "the mapping to report its queue")
    setup.queue_url = setup.sqs.create_queue(QueueName=name)["QueueUrl"]
    setup.send("back")
    assert setup.wait_for_bodies(1) == ["back"]
    wait_for(lambda: not result().startswith("PROBLEM: "), 10, "the problem to clear")
