"""Liveness: each worker beats into one sorted set; health reads which roles beat lately."""

from __future__ import annotations

import time

from redis.asyncio import Redis

from bus.keys import Keys

STALE_AFTER_MS = 5_000


async def beat(redis: Redis, keys: Keys, role: str, consumer: str) -> None:
    await redis.zadd(keys.heartbeats, {f"{role}:{consumer}": int(time.time() * 1000)})


async def stop_beating(redis: Redis, keys: Keys, role: str, consumer: str) -> None:
    await redis.zrem(keys.heartbeats, f"{role}:{consumer}")


async def live_roles(redis: Redis, keys: Keys) -> set[str]:
    """Roles with at least one consumer that beat within STALE_AFTER_MS."""
    since = int(time.time() * 1000) - STALE_AFTER_MS
    members = await redis.zrangebyscore(keys.heartbeats, since, "+inf")
    return {member.decode().split(":", 1)[0] for member in members}
