"""Who polls which mapping: a lease per mapping (a Redis key holding its owner, with a TTL the
owner renews), and a roster of live poller processes, so each takes its fair share.

A poller process that dies stops renewing; its leases expire and the others take them over.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection

from redis.asyncio import Redis

from bus.keys import Keys

# The owner renews every reconcile (4 times a second); a lease outlives a stall of this long.
LEASE_TTL_MS = 4_000
# A poller that has not looked in for this long is gone, and no longer counts for shares:
# sooner than its leases expire, so nobody sheds mappings towards a dead poller.
ROSTER_STALE_MS = 3_000

# Only the owner may extend or drop its lease: another process may hold it by now.
RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class Leases:
    """The leases of one process, named `owner` (unique to the process); `key` names the
    lease of a thing (default: an event source mapping's, by UUID)."""

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        owner: str,
        ttl_ms: int = LEASE_TTL_MS,
        key: Callable[[str], str] | None = None,
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.owner = owner
        self.ttl_ms = ttl_ms
        self.key = key or keys.event_source_lease

    async def acquire(self, uuids: Collection[str]) -> set[str]:
        """Take each lease that nobody holds; the ones taken."""
        uuids = list(uuids)
        if not uuids:
            return set()
        async with self.redis.pipeline(transaction=False) as pipe:
            for uuid in uuids:
                pipe.set(self.key(uuid), self.owner, nx=True, px=self.ttl_ms)
            taken = await pipe.execute()
        return {uuid for uuid, ok in zip(uuids, taken, strict=True) if ok}

    async def renew(self, uuids: Collection[str]) -> set[str]:
        """Extend the leases still ours; the ones kept (the others were lost)."""
        return await self._each(RENEW, uuids, self.ttl_ms)

    async def release(self, uuids: Collection[str]) -> None:
        """Drop the leases still ours, so another poller may take them at once."""
        await self._each(RELEASE, uuids)

    async def holders(self, uuids: Collection[str]) -> dict[str, str | None]:
        """Who holds each lease now (None: nobody)."""
        uuids = list(uuids)
        if not uuids:
            return {}
        owners = await self.redis.mget([self.key(u) for u in uuids])
        return {
            uuid: None if owner is None else owner.decode()
            for uuid, owner in zip(uuids, owners, strict=True)
        }

    async def _each(self, script: str, uuids: Collection[str], *args: int) -> set[str]:
        uuids = list(uuids)
        if not uuids:
            return set()
        async with self.redis.pipeline(transaction=False) as pipe:
            for uuid in uuids:
                pipe.eval(script, 1, self.key(uuid), self.owner, *args)
            done = await pipe.execute()
        return {uuid for uuid, ok in zip(uuids, done, strict=True) if ok}


class Roster:
    """The live poller processes: each looks in every reconcile; shares follow their count."""

    def __init__(self, redis: Redis, keys: Keys, owner: str) -> None:
        self.redis = redis
        self.keys = keys
        self.owner = owner

    async def look_in(self) -> list[str]:
        """Say this process is alive; the live poller processes (this one among them)."""
        now_ms = int(time.time() * 1000)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(self.keys.event_source_pollers, {self.owner: now_ms})
            pipe.zremrangebyscore(self.keys.event_source_pollers, "-inf", now_ms - ROSTER_STALE_MS)
            pipe.zrange(self.keys.event_source_pollers, 0, -1)
            *_, members = await pipe.execute()
        return [member.decode() for member in members]

    async def leave(self) -> None:
        await self.redis.zrem(self.keys.event_source_pollers, self.owner)


def fair_share(mappings: int, pollers: int) -> int:
    """How many of `mappings` one of `pollers` processes takes before leaving the rest."""
    return math.ceil(mappings / max(pollers, 1))
