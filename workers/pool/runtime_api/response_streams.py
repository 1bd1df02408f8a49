"""A streamed response on its way from the Runtime API to the invocation's Redis stream
(bus/transport/response_streams.py): chunks are queued as the runtime sends them, and what queued up
during one append goes in the next as one entry (so no trimming is needed: the bytes are
capped, the entries by the round trips); while more than PAUSE_BYTES wait, the runtime's
connection is not read from.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

import anyio
from redis.asyncio import Redis

from bus.quotas import STREAM_RESPONSE_BYTES
from bus.transport.response_streams import CHUNK, HEAD
from workers.pool.environments import Outcome, error_body

log = logging.getLogger(__name__)

PAUSE_BYTES = 1 << 20
RESUME_BYTES = 1 << 18


class RedisResponseSink:
    """One invocation's streamed response, appended to the Redis stream `key` by `run()`."""

    def __init__(self, redis: Redis, key: str) -> None:
        self.redis = redis
        self.key = key
        self.total_bytes = 0
        self.overflowed = False  # more than STREAM_RESPONSE_BYTES: the rest was dropped
        self._head: str | None = None
        self._queue: deque[bytes] = deque()
        self._queued_bytes = 0
        self._transport: asyncio.Transport | None = None
        self._paused = False
        self._closed = False
        self._wake = anyio.Event()

    def start(self, content_type: str, transport: asyncio.Transport) -> None:
        self._head = content_type or "application/octet-stream"
        self._transport = transport
        self._wake.set()

    def write(self, chunk: bytes) -> None:
        if self.overflowed or not chunk:
            return
        self.total_bytes += len(chunk)
        if self.total_bytes > STREAM_RESPONSE_BYTES:
            self.overflowed = True
            return
        self._queue.append(chunk)
        self._queued_bytes += len(chunk)
        if self._queued_bytes > PAUSE_BYTES and self._transport and not self._paused:
            self._paused = True
            self._transport.pause_reading()
        self._wake.set()

    @staticmethod
    def overflowed_outcome(outcome: Outcome) -> Outcome:
        """What a function that streamed more than AWS allows gets instead of `outcome`."""
        message = (
            "Response payload size exceeded maximum allowed payload size "
            f"({STREAM_RESPONSE_BYTES} bytes)."
        )
        body = error_body("Function.ResponseSizeTooLarge", message)
        return Outcome(body, "Unhandled", outcome.log_tail)

    def close(self) -> None:
        """No more chunks: `run()` returns once the queued ones are appended."""
        self._closed = True
        self._wake.set()

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake = anyio.Event()
            await self._flush()
            if self._closed and not self._queue:
                self._resume()
                return

    async def _flush(self) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            if self._head is not None:
                pipe.xadd(self.key, {HEAD: self._head}, nomkstream=True)
                self._head = None
            if self._queue:
                chunks = b"".join(self._queue)
                self._queue.clear()
                self._queued_bytes = 0
                pipe.xadd(self.key, {CHUNK: chunks}, nomkstream=True)
            try:
                await pipe.execute()
            except Exception:  # the caller then gets what went through, and the reply
                log.warning("streaming to %s failed", self.key, exc_info=True)
        if self._queued_bytes < RESUME_BYTES:
            self._resume()

    def _resume(self) -> None:
        if self._paused and self._transport is not None:
            self._paused = False
            self._transport.resume_reading()
