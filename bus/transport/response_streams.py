"""Streamed responses over Redis: one stream per invocation carries the response's content
type, its chunks in order, then the reply (the pool's InvocationCompleted or -Rejected).

The API creates the stream (with an expiry) before publishing the invocation and reads it with
XREAD BLOCK as the client takes the bytes; the pool worker appends with NOMKSTREAM, so a caller
that gave up (and deleted the stream) costs nothing more. At most STREAM_RESPONSE_BYTES pass.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from redis.asyncio import Redis

from bus.messages import REPLIES, Reply
from bus.transport.streams import FIELD

HEAD = b"h"  # the response's Content-Type, once, before its first chunk
CHUNK = b"c"
READ_BLOCK_MS = 5_000
READ_COUNT = 256


@dataclass(frozen=True, slots=True)
class Head:
    content_type: str


async def open_response_stream(redis: Redis, key: str, ttl_s: int) -> None:
    """Create the stream the worker will append to, expiring after `ttl_s` whatever happens."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.xadd(key, {b"opened": b"1"})
        pipe.expire(key, ttl_s)
        await pipe.execute()


async def read_response_stream(
    redis: Redis, key: str, timeout_s: float
) -> AsyncGenerator[Head | bytes | Reply | None, None]:
    """Head, chunks and finally the reply, as they arrive; None if nothing ended it within
    `timeout_s`. The stream is deleted once read to its end (or abandoned)."""
    deadline = time.monotonic() + timeout_s
    last_id = b"0-0"
    try:
        while (left_ms := int((deadline - time.monotonic()) * 1000)) > 0:
            block = min(READ_BLOCK_MS, left_ms)
            answer = await redis.xread({key: last_id}, count=READ_COUNT, block=block)
            for _stream, entries in answer or []:
                for entry_id, fields in entries:
                    last_id = entry_id
                    if CHUNK in fields:
                        yield fields[CHUNK]
                    elif HEAD in fields:
                        yield Head(fields[HEAD].decode(errors="replace"))
                    elif FIELD in fields:
                        yield REPLIES.decode(fields[FIELD])
                        return
        yield None
    finally:
        await redis.delete(key)
