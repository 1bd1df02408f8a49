"""The API's record cache (services/invocations/record_cache.py) on a real Redis: a change made
through any process's stores reaches every process's cache, and nothing is kept while the
cache does not hear of changes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import msgspec
import pytest
from redis.asyncio import Redis

from bus.keys import Keys
from bus.records import Alias, FunctionVersion, State
from bus.stores import Stores
from services.invocations.record_cache import RecordCache

pytestmark = pytest.mark.anyio


def record(name: str, state: State = State.ACTIVE, timeout_s: int = 3) -> FunctionVersion:
    return FunctionVersion(
        name=name,
        arn=f"arn:aws:lambda:us-east-1:0:function:{name}",
        state=state,
        timeout_s=timeout_s,
    )


@asynccontextmanager
async def listening(redis: Redis, keys: Keys) -> AsyncIterator[RecordCache]:
    """A cache whose subscription is up, as in a running API process."""
    cache = RecordCache(redis, keys, Stores.create(redis, keys))
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(cache.run)
        with anyio.fail_after(5):
            while not cache._live:  # noqa: ASYNC110
                await anyio.sleep(0.01)
        yield cache
        tasks.cancel_scope.cancel()


async def eventually(read, expected) -> None:  # type: ignore[no-untyped-def]
    with anyio.fail_after(2):
        while await read() != expected:  # noqa: ASYNC110
            await anyio.sleep(0.005)


async def test_a_change_through_another_process_reaches_the_cache(redis, keys):
    other = Stores.create(redis, keys)  # another process's stores: no cache of its own
    assert await other.functions.create(record("f"), {})
    async with listening(redis, keys) as cache:
        assert (await cache.function("f", "$LATEST")).timeout_s == 3
        await redis.hset(
            keys.function("f"), "$LATEST", msgspec.msgpack.encode(record("f", timeout_s=9))
        )
        # Written behind the stores' back: no news, so the cache still holds the old one...
        assert (await cache.function("f", "$LATEST")).timeout_s == 3
        # ...while a store write announces itself.
        await other.functions.update("f", lambda r: msgspec.structs.replace(r, timeout_s=7))
        await eventually(lambda: _timeout(cache, "f"), 7)
        await other.functions.delete("f")
        await eventually(lambda: cache.function("f", "$LATEST"), None)


async def test_aliases_are_cached_until_they_change(redis, keys):
    other = Stores.create(redis, keys)
    assert await other.functions.create(record("g"), {})
    await other.aliases.write(
        "g",
        "live",
        lambda _a, _v: Alias(name="live", function_name="g", function_version="$LATEST"),
    )
    async with listening(redis, keys) as cache:
        assert (await cache.alias("g", "live")).description == ""
        await other.aliases.write(
            "g", "live", lambda a, _v: msgspec.structs.replace(a, description="moved")
        )
        await eventually(lambda: _description(cache, "g", "live"), "moved")


async def test_nothing_is_kept_without_the_subscription_nor_a_version_not_active(redis, keys):
    stores = Stores.create(redis, keys)
    assert await stores.functions.create(record("h", State.PENDING), {})
    async with listening(redis, keys) as cache:
        assert (await cache.function("h", "$LATEST")).state == State.PENDING
        await redis.hset(keys.function("h"), "$LATEST", msgspec.msgpack.encode(record("h")))
        assert (await cache.function("h", "$LATEST")).state == State.ACTIVE  # read again
    unheard = RecordCache(redis, keys, stores)  # not listening
    await unheard.function("h", "$LATEST")
    await redis.hset(
        keys.function("h"), "$LATEST", msgspec.msgpack.encode(record("h", timeout_s=5))
    )
    assert (await unheard.function("h", "$LATEST")).timeout_s == 5


async def _timeout(cache: RecordCache, name: str) -> int | None:
    found = await cache.function(name, "$LATEST")
    return None if found is None else found.timeout_s


async def _description(cache: RecordCache, name: str, alias: str) -> str | None:
    found = await cache.alias(name, alias)
    return None if found is None else found.description
