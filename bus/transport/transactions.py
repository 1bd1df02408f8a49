"""Optimistic transactions: WATCH the keys, read, decide, then MULTI/EXEC; again if one changed.

Several API processes and workers change the same records; this is how none loses another's
write without holding locks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.exceptions import WatchError

T = TypeVar("T")


async def transaction(
    redis: Redis, watched: tuple[str, ...], attempt: Callable[[Any], Awaitable[T]]
) -> T:
    """Run `attempt(pipe)` with `watched` under WATCH until no watched key changed under it.

    `attempt` reads through the pipe, then calls `pipe.multi()`, queues its writes and
    executes them; it may also return (or raise) before writing anything.
    """
    async with redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(*watched)
                return await attempt(pipe)
            except WatchError:
                continue
