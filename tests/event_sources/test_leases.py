"""Mapping leases and the poller roster, on a real redis-server."""

from __future__ import annotations

import anyio
import pytest
from redis.asyncio import Redis

from bus.keys import Keys
from workers.event_sources.leases import Leases, Roster, fair_share

pytestmark = pytest.mark.anyio


async def test_a_lease_has_one_owner_at_a_time(redis: Redis, keys: Keys) -> None:
    first, second = Leases(redis, keys, "first"), Leases(redis, keys, "second")
    assert await first.acquire(["m1", "m2"]) == {"m1", "m2"}
    assert await second.acquire(["m1", "m2", "m3"]) == {"m3"}
    assert await first.holders(["m1", "m3", "m4"]) == {"m1": "first", "m3": "second", "m4": None}


async def test_only_the_owner_renews_or_releases(redis: Redis, keys: Keys) -> None:
    first, second = Leases(redis, keys, "first"), Leases(redis, keys, "second")
    await first.acquire(["m1"])
    assert await second.renew(["m1"]) == set()
    await second.release(["m1"])
    assert await first.renew(["m1"]) == {"m1"}
    await first.release(["m1"])
    assert await second.acquire(["m1"]) == {"m1"}


async def test_a_lease_not_renewed_expires_and_is_lost(redis: Redis, keys: Keys) -> None:
    first = Leases(redis, keys, "first", ttl_ms=100)
    second = Leases(redis, keys, "second")
    await first.acquire(["m1"])
    await anyio.sleep(0.2)
    assert await second.acquire(["m1"]) == {"m1"}
    assert await first.renew(["m1"]) == set()


async def test_the_roster_lists_live_pollers(redis: Redis, keys: Keys) -> None:
    one, two = Roster(redis, keys, "one"), Roster(redis, keys, "two")
    assert await one.look_in() == ["one"]
    assert sorted(await two.look_in()) == ["one", "two"]
    await one.leave()
    assert await two.look_in() == ["two"]


def test_fair_share_rounds_up() -> None:
    assert [fair_share(n, 2) for n in (0, 1, 2, 3, 4)] == [0, 1, 1, 2, 2]
    assert fair_share(5, 0) == 5
