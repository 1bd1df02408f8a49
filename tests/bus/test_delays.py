"""Delayed delivery on a real Redis: due order, nothing early, and no payload taken twice."""

from __future__ import annotations

import anyio
import pytest
from redis.asyncio import Redis

from bus.keys import Keys
from bus.transport import delays

pytestmark = pytest.mark.anyio


async def test_due_returns_only_payloads_whose_time_has_come(redis: Redis, keys: Keys) -> None:
    key = keys.async_delays
    await delays.schedule(redis, key, 2_000, b"later")
    await delays.schedule(redis, key, 1_000, b"first")
    await delays.schedule(redis, key, 1_500, b"first")  # equal payloads are both kept
    assert await delays.due(redis, key, at_ms=500) == []
    assert await delays.due(redis, key, at_ms=1_500) == [b"first", b"first"]
    assert await delays.due(redis, key, at_ms=1_500) == []
    assert await delays.due(redis, key, at_ms=3_000) == [b"later"]


async def test_concurrent_takers_never_share_a_payload(redis: Redis, keys: Keys) -> None:
    key = keys.async_delays
    for number in range(200):
        await delays.schedule(redis, key, number, str(number).encode())
    taken: list[bytes] = []

    async def take() -> None:
        while batch := await delays.due(redis, key, count=7, at_ms=1_000):
            taken.extend(batch)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tasks:
            for _ in range(5):
                tasks.start_soon(take)
    assert sorted(taken) == sorted(str(n).encode() for n in range(200))


async def test_release_due_moves_payloads_onto_the_stream(redis: Redis, keys: Keys) -> None:
    key, stream = keys.async_delays, keys.async_invocations
    await delays.schedule(redis, key, delays.now_ms() - 1, b"due")
    await delays.schedule(redis, key, delays.now_ms() + 60_000, b"not yet")
    assert await delays.release_due(redis, key, stream, b"m") == 1
    entries = await redis.xrange(stream)
    assert [fields for _id, fields in entries] == [{b"m": b"due"}]
    assert await redis.zcard(key) == 1
