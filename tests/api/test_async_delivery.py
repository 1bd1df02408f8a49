"""How the async worker carries Event invocations through age, throttles and a crash: an event
past its maximum age is never run, a throttled one waits without using up an attempt, and
one killed worker loses nothing.

https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import msgspec
import pytest
from redis import Redis

from bus.keys import Keys
from bus.messages import ASYNC_COMMANDS, InvokeAsync
from bus.records import LATEST, FunctionVersion
from bus.transport.delays import now_ms
from bus.transport.streams import FIELD
from tests.api.test_async_invoke import (
    invoke_event,
    make_queue,
    quiet,
    receive,
    reporter_sending_to,
)
from tests.api.test_stack import role_pid
from tests.conftest import Stack, start_stack, stop_stack
from tests.functions import create_python_function, unique_name
from tests.waiting import wait_for

# The key prefix of a stack started without TARN_KEY_PREFIX.
STACK_KEYS = Keys("tarn")

SLOW = """
import time

def handler(event, context):
    time.sleep(1.5)
    return event["n"]
"""

# Leaves one line per run in the file its event names, then takes its time.
LINGERING = """
import time

def handler(event, context):
    with open(event["path"], "a") as runs:
        runs.write(context.aws_request_id + "\\n")
    time.sleep(3)
"""

# Fails the first attempt at each event, then records the event's id: every event waits in
# the retry set once, so a killed worker has work in each state to lose.
SECOND_TIME_LUCKY = """
import os

def handler(event, context):
    tried = os.path.join(event["dir"], event["id"] + ".tried")
    if not os.path.exists(tried):
        open(tried, "w").close()
        raise RuntimeError("first attempt fails")
    with open(os.path.join(event["dir"], "done.txt"), "a") as done:
        done.write(event["id"] + "\\n")
"""


# Leaves one line per run (its request id) in the file its event names, taking a second.
RECORDER = """
import time

def handler(event, context):
    with open(event["path"], "a") as runs:
        runs.write(context.aws_request_id + "\\n")
    time.sleep(1)
"""


def stack_redis(stack: Stack) -> Redis:
    """A client of the stack's own Redis (`tarn up` runs it on a socket in its data dir)."""
    return Redis(unix_socket_path=str(stack.data_dir / "redis.sock"), socket_timeout=5)


StartStack = Callable[[dict[str, str]], Stack]


@pytest.fixture
def own_stack(tmp_path: Path) -> Iterator[StartStack]:
    """Starts a stack of the test's own with extra TARN_* settings; stops it afterwards."""
    stacks: list[Stack] = []

    def start(settings: dict[str, str]) -> Stack:
        stacks.append(start_stack(tmp_path / "data", tmp_path / "tarn.log", settings=settings))
        return stacks[-1]

    yield start
    for stack in stacks:
        if stack.process.poll() is None:
            stop_stack(stack)


def enqueue(stack: Stack, name: str, event: dict[str, object], age_ms: int) -> str:
    """Put an Event invocation received `age_ms` ago straight onto the stack's async stream,
    as the API would have put it then; its request id."""
    redis = stack_redis(stack)
    try:
        raw = redis.hget(STACK_KEYS.function(name), LATEST)
        record = msgspec.msgpack.decode(raw, type=FunctionVersion)
        command = InvokeAsync(
            request_id=str(uuid.uuid4()),
            function=record,
            payload=json.dumps(event).encode(),
            invoked_arn=record.arn,
            qualifier=LATEST,
            received_ms=now_ms() - age_ms,
        )
        redis.xadd(STACK_KEYS.async_invocations, {FIELD: ASYNC_COMMANDS.encode(command)})
    finally:
        redis.close()
    return command.request_id


def test_event_older_than_its_maximum_age_goes_to_on_failure_without_running(
    stack: Stack,
) -> None:
    failure_url, failure_arn = make_queue(stack)
    name = reporter_sending_to(stack, "OnFailure", failure_arn, MaximumEventAgeInSeconds=60)
    runs, _ = make_queue(stack)
    event = {"report_to": runs, "value": 1}
    old = enqueue(stack, name, event, age_ms=61_000)
    young = enqueue(stack, name, event, age_ms=30_000)
    record = json.loads(receive(stack, failure_url, 1)[0]["Body"])
    assert record["requestContext"]["requestId"] == old
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert record["requestPayload"] == event
    assert "responsePayload" not in record
    assert [m["Body"] for m in receive(stack, runs, 1)] == [young]  # only the young one ran
    assert quiet(stack, runs)
    assert quiet(stack, failure_url)


def test_throttled_event_waits_and_runs_without_using_an_attempt(own_stack: StartStack) -> None:
    stack = own_stack({"TARN_POOL_MAX_ENVIRONMENTS": "1"})
    name = unique_name()
    create_python_function(stack.client(), name, SLOW)
    success_url, success_arn = make_queue(stack)
    stack.client().put_function_event_invoke_config(
        FunctionName=name,
        MaximumRetryAttempts=0,  # a throttle counted as an attempt would end it at once
        DestinationConfig={"OnSuccess": {"Destination": success_arn}},
    )
    invoke_event(stack, name, {"n": 1})
    invoke_event(stack, name, {"n": 2})
    redis = stack_redis(stack)
    try:  # the one the single environment refused waits in the retry set, backing off
        wait_for(lambda: redis.zcard(STACK_KEYS.async_delays) == 1, 10, "a throttled retry")
    finally:
        redis.close()
    records = [json.loads(m["Body"]) for m in receive(stack, success_url, 2, timeout_s=30)]
    assert sorted(r["responsePayload"] for r in records) == [1, 2]
    assert [r["requestContext"]["approximateInvokeCount"] for r in records] == [1, 1]


def test_event_running_longer_than_the_visibility_timeout_runs_once(
    own_stack: StartStack, tmp_path: Path
) -> None:
    stack = own_stack({"TARN_VISIBILITY_TIMEOUT_MS": "1000"})
    name = unique_name()
    create_python_function(stack.client(), name, LINGERING, Timeout=10)
    runs = tmp_path / "runs.txt"
    response = invoke_event(stack, name, {"path": str(runs)})
    wait_for(runs.exists, 20, "the first run")
    time.sleep(4)  # past the end of the run, and four visibility timeouts
    assert runs.read_text().split() == [response["ResponseMetadata"]["RequestId"]]


def test_no_event_is_lost_when_the_async_worker_is_killed_mid_burst(
    own_stack: StartStack, tmp_path: Path
) -> None:
    # The async worker alone is killed (in the default layout, the pool would go with it),
    # while the API still takes the burst in.
    stack = own_stack({"TARN_ASYNC_RETRY_BASE_S": "1", "TARN_WORKER_LAYOUT": "split"})
    name = unique_name()
    create_python_function(stack.client(), name, SECOND_TIME_LUCKY)
    client = stack.client()
    ids = [f"e{n:04d}" for n in range(1000)]

    def send(event_id: str) -> int:
        event = json.dumps({"dir": str(tmp_path), "id": event_id}).encode()
        response = client.invoke(FunctionName=name, InvocationType="Event", Payload=event)
        return int(response["StatusCode"])

    with ThreadPoolExecutor(8) as senders:
        sent = [senders.submit(send, event_id) for event_id in ids]
        wait_for(lambda: len(list(tmp_path.glob("*.tried"))) >= 200, 30, "200 first attempts")
        worker = role_pid(stack, "async")
        with stack_redis(stack) as redis:  # the worker's retries wait in Redis, not in memory
            assert redis.zcard(STACK_KEYS.async_delays) > 0
        os.kill(worker, signal.SIGKILL)
        assert not all(f.done() for f in sent), "the burst ended before the kill"
        assert [f.result(timeout=60) for f in sent] == [202] * len(ids)
    done = tmp_path / "done.txt"
    wait_for(lambda: seen(done) == set(ids), 45, "every event's side effect")
    assert role_pid(stack, "async") != worker


def seen(done: Path) -> set[str]:
    return set(done.read_text().split()) if done.exists() else set()


def test_two_async_workers_on_one_host_never_run_each_others_events(
    own_stack: StartStack, tmp_path: Path
) -> None:
    """Each process is its own consumer: when one of two async workers is killed mid-burst
    and restarted, only the events it held may run again (after the visibility timeout);
    the other worker's events run once, and none is lost."""
    stack = own_stack(
        {
            "TARN_WORKERS": "functions,pool,async,async,event_sources",
            "TARN_VISIBILITY_TIMEOUT_MS": "3000",
        }
    )
    name = unique_name()
    create_python_function(stack.client(), name, RECORDER, Timeout=10)
    runs = tmp_path / "runs.txt"
    client = stack.client()

    def send(_: int) -> str:
        event = json.dumps({"path": str(runs)}).encode()
        response = client.invoke(FunctionName=name, InvocationType="Event", Payload=event)
        return str(response["ResponseMetadata"]["RequestId"])

    workers = async_workers(stack)
    assert len(workers) == 2
    with ThreadPoolExecutor(8) as senders:
        sent = list(senders.map(send, range(160)))
    wait_for(lambda: len(run_counts(runs)) >= 30, 30, "30 events run")
    os.kill(workers[0], signal.SIGKILL)
    held = pending_by_consumer(stack)
    killed = [consumer for consumer in held if consumer.endswith(f"-async-{workers[0]}")]
    survivor = [consumer for consumer in held if consumer.endswith(f"-async-{workers[1]}")]
    assert killed and survivor, f"both workers should hold events at the kill: {held}"
    wait_for(lambda: len(async_workers(stack)) == 2, 20, "the killed worker's successor")
    wait_for(lambda: run_counts(runs).keys() >= set(sent), 60, "every event's run")
    time.sleep(1.5)  # any second run of an event would have finished by now
    counts = run_counts(runs)
    may_run_again = set(held[killed[0]])
    assert {rid: n for rid, n in counts.items() if n > 1 and rid not in may_run_again} == {}
    assert counts.keys() == set(sent)


def async_workers(stack: Stack) -> list[int]:
    found = subprocess.run(
        ["pgrep", "-P", str(stack.process.pid), "-f", "workers async"],
        capture_output=True,
        text=True,
    ).stdout.split()
    return sorted(int(pid) for pid in found)


def pending_by_consumer(stack: Stack) -> dict[str, list[str]]:
    """The request ids of the async stream's pending (unacknowledged) entries, per consumer."""
    with stack_redis(stack) as redis:
        stream = STACK_KEYS.async_invocations
        pending = redis.xpending_range(stream, "async", "-", "+", 10_000)
        held: dict[str, list[str]] = {}
        for entry in pending:
            [(_, fields)] = redis.xrange(stream, entry["message_id"], entry["message_id"])
            command = ASYNC_COMMANDS.decode(fields[FIELD])
            held.setdefault(entry["consumer"].decode(), []).append(command.request_id)
    return held


def run_counts(runs: Path) -> Counter[str]:
    return Counter(runs.read_text().split()) if runs.exists() else Counter()
