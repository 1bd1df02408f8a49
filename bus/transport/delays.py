"""Delayed delivery: payloads in a sorted set scored by their due time (epoch ms).

`due` takes what is due with one Lua script (ZRANGEBYSCORE then ZREM, atomically), so two
workers polling the same set never both take one payload; `release_due` moves due payloads onto
a stream in the same script, so a worker dying in between loses nothing.
"""

from __future__ import annotations

import time
import uuid

from redis.asyncio import Redis

# Members are made unique with a random prefix, so two equal payloads are both kept.
ID_BYTES = 16

_TAKE_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
if #due > 0 then
    redis.call('ZREM', KEYS[1], unpack(due))
end
return due
"""


_RELEASE_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, member in ipairs(due) do
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', ARGV[3], string.sub(member, 17))
    redis.call('ZREM', KEYS[1], member)
end
return #due
"""


def now_ms() -> int:
    return int(time.time() * 1000)


async def schedule(redis: Redis, key: str, due_ms: int, payload: bytes) -> None:
    """Keep `payload` in `key` until `due_ms` (epoch ms)."""
    member = uuid.uuid4().bytes + payload
    await redis.zadd(key, {member: due_ms})


async def due(redis: Redis, key: str, *, count: int = 100, at_ms: int | None = None) -> list[bytes]:
    """Remove and return up to `count` payloads due at `at_ms` (default: now), oldest first."""
    at = now_ms() if at_ms is None else at_ms
    members = await redis.eval(_TAKE_DUE, 1, key, at, count)
    return [bytes(member)[ID_BYTES:] for member in members]


async def release_due(
    redis: Redis, key: str, stream: str, field: bytes, *, count: int = 100, maxlen: int = 100_000
) -> int:
    """Move up to `count` due payloads onto `stream` as entries `{field: payload}`; how many."""
    moved = await redis.eval(_RELEASE_DUE, 2, key, stream, now_ms(), count, field, maxlen)
    return int(moved)
