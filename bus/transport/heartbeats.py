"""Liveness: each worker process beats into one sorted set (member `role:consumer`, scored by
the time of its last beat); health reads how many instances of each role beat lately.

Instances are counted across hosts and containers, since every consumer name is unique; one
that stopped beating (killed, its host gone) stops counting after STALE_AFTER_MS and is
forgotten after FORGET_AFTER_MS.
"""

from __future__ import annotations

import time
from collections import Counter

from redis.asyncio import Redis

from bus.keys import Keys

STALE_AFTER_MS = 5_000
# Silent this long, a process is taken for dead wherever it ran (its host's clock and Redis's
# readers' must agree to within a few seconds); a host's own dead processes are known at once
# from their pids (workers/consumers.py).
DEAD_AFTER_MS = 10_000
# Long enough for a pool to answer the invocations a dead one on its host held (workers/pool).
FORGET_AFTER_MS = 600_000


async def beat(redis: Redis, keys: Keys, role: str, consumer: str) -> None:
    now = int(time.time() * 1000)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zadd(keys.heartbeats, {f"{role}:{consumer}": now})
        pipe.zremrangebyscore(keys.heartbeats, "-inf", now - FORGET_AFTER_MS)
        await pipe.execute()


async def stop_beating(redis: Redis, keys: Keys, role: str, consumer: str) -> None:
    await redis.zrem(keys.heartbeats, f"{role}:{consumer}")


async def live_instances(redis: Redis, keys: Keys) -> Counter[str]:
    """How many processes of each role beat within STALE_AFTER_MS."""
    since = int(time.time() * 1000) - STALE_AFTER_MS
    members = await redis.zrangebyscore(keys.heartbeats, since, "+inf")
    return Counter(member.decode().split(":", 1)[0] for member in members)
