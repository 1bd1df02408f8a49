"""A pool worker answers the invocations held by a pool of another host (a container, a machine)
once that one has been silent for DEAD_AFTER_MS, and leaves those of one still beating."""

from __future__ import annotations

import time

import pytest
from redis.asyncio import Redis

from bus.keys import Keys
from bus.transport.heartbeats import DEAD_AFTER_MS
from workers.pool.held import ENCODER, Held, HeldInvocations

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
