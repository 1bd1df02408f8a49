"""A pool worker answers the invocations held by a pool of another host (a container, a machine)
once that one has been silent for DEAD_AFTER_MS, and leaves those of one still beating: what a
pool holds is its pending entries in the invocations stream. An invocation the dead pool had
read but not yet started is answered too, never run a second time."""

from __future__ import annotations

import dataclasses
import time
import uuid
from pathlib import Path

import anyio
import pytest
from redis.asyncio import Redis

from bus.keys import Keys
from bus.messages import INVOCATION_COMMANDS, InvocationCompleted, InvokeFunction
from bus.records import FunctionVersion
from bus.transport.heartbeats import DEAD_AFTER_MS
from bus.transport.streams import FIELD, StreamConsumer
from tests.pool.conftest import running_pool
from workers.consumers import POOL, held_by_a_live_worker
from workers.pool.held import HeldInvocations
from workers.pool.pool import WarmPool

pytestmark = pytest.mark.anyio

ECHO = "def handler(event, context):\n    return event\n"


async def read_elsewhere(
    redis: Redis, keys: Keys, stream: StreamConsumer, consumer: str, beat_ms: int, reply_to: str
) -> InvokeFunction:
    """An invocation read (not yet answered) by `consumer`, last beating at `beat_ms`, with a
    concurrency slot; published and read in one step, so that no live pool takes it first."""
    function = FunctionVersion(
        name="fn", version="1", arn="arn:aws:lambda:us-east-1:000000000000:function:fn"
    )
    command = InvokeFunction(
        request_id=str(uuid.uuid4()),
        function=function,
        payload=b"{}",
        reply_to=reply_to,
        invoked_arn=function.arn,
        slot_key=keys.unreserved_in_flight,
    )
    await stream.ensure_group()
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zadd(keys.unreserved_in_flight, {command.request_id: beat_ms + 60_000})
        pipe.xadd(keys.invocations, {FIELD: INVOCATION_COMMANDS.encode(command)})
        pipe.xreadgroup(POOL, consumer, {keys.invocations: ">"}, count=1)
        pipe.zadd(keys.heartbeats, {f"pool:{consumer}": beat_ms})
        *_, read, _ = await pipe.execute()
    assert len(read[0][1]) == 1
    return command


async def test_a_silent_pool_elsewhere_is_answered_for(redis: Redis, tmp_path: Path) -> None:
    async with running_pool(redis, tmp_path) as harness:
        keys, pool = harness.keys, harness.pool
        now = int(time.time() * 1000)
        beating = await read_elsewhere(
            redis, keys, pool.stream, "thirdhost-pool-8", now, harness.inbox.key
        )
        assert await held_by_a_live_worker(redis, keys, beating.request_id)
        harness.inbox.expect(beating.request_id)
        gone = await read_elsewhere(
            redis,
            keys,
            pool.stream,
            "otherhost-pool-7",
            now - DEAD_AFTER_MS - 1000,
            harness.inbox.key,
        )
        harness.inbox.expect(gone.request_id)
        assert not await held_by_a_live_worker(redis, keys, gone.request_id)
        reply = await harness.inbox.wait(gone.request_id, 10)  # the pool's watch answers it
        assert isinstance(reply, InvocationCompleted)
        assert reply.function_error == "Unhandled"
        assert b"Runtime.ExitError" in reply.payload
        # Its slot is free and its entry acknowledged; the beating pool's are untouched.
        assert await redis.zrange(keys.unreserved_in_flight, 0, -1) == [beating.request_id.encode()]
        pending = await redis.xpending(keys.invocations, POOL)
        assert pending["pending"] == 1
        assert [c["name"] for c in pending["consumers"]] == [b"thirdhost-pool-8"]
        assert await harness.inbox.wait(beating.request_id, 0.1) is None


async def test_a_pool_answers_what_its_name_held_before_a_restart(
    redis: Redis, tmp_path: Path
) -> None:
    """A consumer name given by TARN_CONSUMER outlives its process: the pool that starts
    under it answers what it held before."""
    async with running_pool(redis, tmp_path) as harness:
        keys, pool = harness.keys, harness.pool
        now = int(time.time() * 1000)
        left = await read_elsewhere(redis, keys, pool.stream, "fixed-pool", now, harness.inbox.key)
        harness.inbox.expect(left.request_id)
        watcher = HeldInvocations(redis, keys, "fixed-pool", pool.stream)
        assert await watcher.answer_own_leftovers() == 1
        reply = await harness.inbox.wait(left.request_id, 5)
        assert isinstance(reply, InvocationCompleted)
        assert reply.function_error == "Unhandled"
        assert (await redis.xpending(keys.invocations, POOL))["pending"] == 0


async def test_an_invocation_running_long_is_never_taken_from_its_pool(
    redis: Redis, tmp_path: Path
) -> None:
    """Pending for longer than the visibility timeout is not abandoned: nobody reclaims it,
    and it runs once."""
    runs = tmp_path / "runs"
    counting = (
        "import time\n"
        "def handler(event, context):\n"
        f"    open({str(runs)!r}, 'a').write('ran\\n')\n"
        "    time.sleep(1.5)\n"
        "    return event\n"
    )
    async with running_pool(redis, tmp_path / "data") as harness:
        pool: WarmPool = harness.pool
        pool.stream.config = dataclasses.replace(pool.stream.config, visibility_timeout_ms=200)
        function = await harness.deploy({"app.py": counting}, timeout_s=5)
        reply = await harness.invoke(function, {"once": True})
        assert isinstance(reply, InvocationCompleted)
        assert reply.payload == b'{"once": true}'
        await anyio.sleep(0.5)  # a second run, if any, would have started by now
        assert runs.read_text() == "ran\n"
        assert (await redis.xpending(harness.keys.invocations, POOL))["pending"] == 0
