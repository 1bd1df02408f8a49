"""A pool worker answers the invocations held by a pool of another host (a container, a machine)
once that one has been silent for DEAD_AFTER_MS, and leaves those of one still beating; what the
dead one had read but not yet held, it runs."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bus.keys import Keys
from bus.messages import INVOCATION_COMMANDS, InvocationCompleted, InvokeFunction
from bus.transport.heartbeats import DEAD_AFTER_MS
from bus.transport.streams import FIELD
from tests.pool.conftest import running_pool
from workers.pool.held import ENCODER, Held, HeldInvocations
from workers.pool.pool import GROUP

pytestmark = pytest.mark.anyio


async def hold_elsewhere(redis: Redis, keys: Keys, consumer: str, beat_ms: int) -> str:
    """A hold of `consumer` (last beat at `beat_ms`) whose caller's inbox is a fresh stream."""
    inbox = keys.replies(consumer)
    await redis.xadd(inbox, {"opened": "1"})
    await redis.hset(keys.held_invocations(consumer), "req-1", ENCODER.encode(Held(inbox, "1")))
    await redis.zadd(keys.heartbeats, {f"pool:{consumer}": beat_ms})
    return inbox


async def test_a_silent_pool_elsewhere_is_answered_for(redis: Redis, keys: Keys) -> None:
    now = int(time.time() * 1000)
    gone = await hold_elsewhere(redis, keys, "otherhost-pool-7", now - DEAD_AFTER_MS - 1000)
    beating = await hold_elsewhere(redis, keys, "thirdhost-pool-8", now)
    watcher = HeldInvocations(redis, keys, "thishost-pool-1")
    assert await watcher.answer_for_dead() == 1
    assert await redis.xlen(gone) == 2  # the caller got its Runtime.ExitError
    assert await redis.xlen(beating) == 1
    assert await redis.exists(keys.held_invocations("thirdhost-pool-8")) == 1


ECHO = "def handler(event, context):\n    return event\n"


async def test_an_invocation_a_dead_pool_read_but_never_held_runs_on_another(
    redis: Redis, tmp_path: Path
) -> None:
    """A pool killed between reading an invocation and holding it leaves the entry pending:
    the pool that finds it dead runs it, and its caller gets the function's answer."""
    async with running_pool(redis, tmp_path) as harness:
        function = await harness.deploy({"app.py": ECHO})
        request_id = str(uuid.uuid4())
        command = InvokeFunction(
            request_id=request_id,
            function=function,
            payload=b'{"ran": "elsewhere"}',
            reply_to=harness.inbox.key,
            invoked_arn=function.arn,
        )
        harness.inbox.expect(request_id)
        dead, keys = "otherhost-pool-9", harness.keys
        await harness.pool.stream.ensure_group()
        # Published and read by the other pool in one step, so this pool cannot take it first.
        async with redis.pipeline(transaction=True) as pipe:
            pipe.xadd(keys.invocations, {FIELD: INVOCATION_COMMANDS.encode(command)})
            pipe.xreadgroup(GROUP, dead, {keys.invocations: ">"}, count=1)
            *_, read = await pipe.execute()
        assert len(read[0][1]) == 1
        silent_since = int(time.time() * 1000) - DEAD_AFTER_MS - 1000
        await redis.zadd(keys.heartbeats, {f"pool:{dead}": silent_since})
        reply = await harness.inbox.wait(request_id, 10)
        assert isinstance(reply, InvocationCompleted)
        assert (reply.payload, reply.function_error) == (b'{"ran": "elsewhere"}', None)
        assert await redis.xpending(keys.invocations, GROUP) == {
            "pending": 0,
            "min": None,
            "max": None,
            "consumers": [],
        }
