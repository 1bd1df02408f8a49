"""Redis streams transport: publish, consume in a consumer group, ack, reclaim, dead-letter.

Delivery is at least once. A consumer first re-reads its own pending entries (those of an
earlier process under the same name, if one was given), then claims entries that another
consumer left unacknowledged for longer than the visibility timeout, then reads new ones.
Consumer names are unique per process, so the entries of a process that died are reclaimed
by the others (or its successor) once the visibility timeout has passed.
An entry that does not decode, or whose handler failed `max_deliveries` times, goes to the
dead-letter stream with the reason; nothing is dropped silently. A redelivery after a crash is
not a failure: only an entry that keeps killing its workers (REDELIVERIES_MAX) is given up.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import anyio
import msgspec
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import ResponseError

from bus.keys import Keys
from bus.messages import Codec
from bus.settings import Settings

log = logging.getLogger(__name__)

M = TypeVar("M")
FIELD = b"m"
# One read takes at most this many entries, so a large concurrency costs nothing per read.
READ_BATCH_MAX = 64
# Deliveries after which an entry that was never seen to fail (its workers died handling it,
# again and again) goes to the dead-letter stream: a poison message, not a crash.
REDELIVERIES_MAX = 50
# A stream keeps about this many entries; older ones are trimmed as new ones come.
STREAM_MAXLEN = 100_000


async def publish(
    redis: Redis, stream: str, codec: Codec[M], message: M, *, maxlen: int = STREAM_MAXLEN
) -> str:
    """Append `message` to `stream`; returns the entry id. Old entries are trimmed lazily."""
    entry_id = await redis.xadd(stream, {FIELD: codec.encode(message)}, maxlen=maxlen)
    return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)


@dataclass(frozen=True, slots=True)
class Delivery(Generic[M]):
    entry_id: bytes
    message: M
    deliveries: int


@dataclass(frozen=True, slots=True)
class ConsumerConfig:
    stream: str
    group: str
    consumer: str
    dead_letters: str
    visibility_timeout_ms: int = 30_000
    max_deliveries: int = 5  # failures of its handler
    failures: str = ""  # hash: entry id -> failures so far (empty: count deliveries instead)


def consumer_config(
    settings: Settings, keys: Keys, *, stream: str, group: str, consumer: str
) -> ConsumerConfig:
    """A consumer's configuration with the stack's delivery settings and dead-letter stream."""
    return ConsumerConfig(
        stream=stream,
        group=group,
        consumer=consumer,
        dead_letters=keys.dead_letters,
        failures=keys.delivery_failures(stream, group),
        visibility_timeout_ms=settings.visibility_timeout_ms,
        max_deliveries=settings.max_deliveries,
    )


class StreamConsumer(Generic[M]):
    """One consumer in one group on one stream, decoding entries with one codec."""

    def __init__(self, redis: Redis, config: ConsumerConfig, codec: Codec[M]) -> None:
        self.redis = redis
        self.config = config
        self.codec = codec
        self._own_pending_done = False
        self._own_pending_from = "0"  # each own pending entry is read back once
        self._next_reclaim = 0.0
        # Where the next reclaim scans the pending entries list from: each XAUTOCLAIM looks
        # at a few times `count` entries only, so a scan goes on where the last one stopped
        # and the stuck entries behind many busy ones are reached too.
        self._reclaim_from: bytes | str = "0-0"
        self._in_flight: set[bytes] = set()

    @property
    def _redeliveries_max(self) -> int:
        """Without a failure count, every delivery counts as a failed one."""
        return REDELIVERIES_MAX if self.config.failures else self.config.max_deliveries

    async def ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(
                self.config.stream, self.config.group, "0", mkstream=True
            )
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def read(self, count: int, block_ms: int, *, recover: bool = True) -> list[Delivery[M]]:
        """Up to `count` deliveries: with `recover`, own pending first, then reclaimed; then
        new entries."""
        if recover:
            recovered = await self._recover(count)
            if recovered:
                return recovered
        entries = await self._xreadgroup(">", count, block_ms)
        return await self._decode_all(entries, deliveries=1)

    async def _recover(self, count: int) -> list[Delivery[M]]:
        """Own pending entries (left from before a restart) until none is left, then, every
        half visibility timeout, entries abandoned by others."""
        if not self._own_pending_done:
            entries = await self._xreadgroup(self._own_pending_from, count, None)
            if entries:
                self._own_pending_from = entries[-1][0].decode()
                return await self._recovered(entries)
            self._own_pending_done = True
        now = time.monotonic()
        if now >= self._next_reclaim:
            self._next_reclaim = now + self.config.visibility_timeout_ms / 2000
            return await self._reclaim(count)
        return []

    async def ack(self, entry_id: bytes, *, redelivered: bool = False) -> None:
        if not (redelivered and self.config.failures):
            await self.redis.xack(self.config.stream, self.config.group, entry_id)
            return
        async with self.redis.pipeline(transaction=False) as pipe:  # forget its failures too
            pipe.xack(self.config.stream, self.config.group, entry_id)
            pipe.hdel(self.config.failures, entry_id)
            await pipe.execute()

    async def failed(self, delivery: Delivery[M]) -> int:
        """Count one failure of `delivery`'s handler; how many it has had."""
        if not self.config.failures:
            return delivery.deliveries
        return int(await self.redis.hincrby(self.config.failures, delivery.entry_id, 1))

    async def dead_letter(self, entry_id: bytes, raw: bytes, reason: str) -> None:
        """Move an entry to the dead-letter stream with its reason, then acknowledge it."""
        log.error("dead-lettering %s entry %s: %s", self.config.stream, entry_id, reason)
        fields = {FIELD: raw, b"stream": self.config.stream, b"reason": reason}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(self.config.dead_letters, fields, maxlen=100_000)
            pipe.xack(self.config.stream, self.config.group, entry_id)
            await pipe.execute()

    async def consume(
        self,
        handle: Callable[[M], Awaitable[None]],
        *,
        concurrency: int,
        block_ms: int = 5_000,
        redelivered: Callable[[M], Awaitable[None]] | None = None,
    ) -> None:
        """Run `handle` on every delivery, at most `concurrency` at once, until cancelled,
        and acknowledge once it returns (at least once). `redelivered`, if given, handles
        instead the entries delivered before (a consumer that died had them: their work may
        have been done, or be under way).

        A handler that raises leaves the entry pending, to be retried after the visibility
        timeout. Entries being handled are touched well within the timeout, however long
        `handle` takes, so only the entries of a consumer that stopped look abandoned.
        """

        async def run(delivery: Delivery[M]) -> None:
            handler = handle if delivery.deliveries == 1 else redelivered or handle
            await self._acknowledged(handler, delivery)

        await self._deliver(run, concurrency, block_ms, recover=True)

    async def consume_deliveries(
        self,
        handle: Callable[[Delivery[M]], Awaitable[None]],
        *,
        concurrency: int,
        block_ms: int = 5_000,
    ) -> None:
        """Run `handle` on every new delivery, at most `concurrency` at once, until
        cancelled; `handle` acknowledges each (`queue_ack`) in the round trip that answers
        for it: for work a retry would make wrong. Nothing is reclaimed for being old: the
        entries a consumer that died leaves pending are its successor's to answer for
        (`claim_from`)."""
        await self._deliver(handle, concurrency, block_ms, recover=False)

    async def _deliver(
        self,
        handle: Callable[[Delivery[M]], Awaitable[None]],
        concurrency: int,
        block_ms: int,
        *,
        recover: bool,
    ) -> None:
        """With `recover`, entries being handled are kept from looking abandoned, and those
        that are (and this consumer's own, left from before) are read again; without, only
        new entries are read."""
        await self.ensure_group()
        capacity = _Capacity(concurrency)
        async with anyio.create_task_group() as tasks:
            if recover:
                tasks.start_soon(self._touch_in_flight_forever)
            while True:
                await capacity.wait_free()
                count = min(capacity.free, READ_BATCH_MAX)
                try:
                    deliveries = await self.read(count, block_ms, recover=recover)
                except Exception:
                    log.exception("reading %s failed; retrying", self.config.stream)
                    await anyio.sleep(1)
                    continue
                capacity.free -= len(deliveries)
                for delivery in deliveries:
                    tasks.start_soon(self._handle_one, handle, delivery, capacity)

    def queue_ack(self, pipe: Pipeline, entry_id: bytes) -> None:
        """Queue the acknowledgement of `entry_id` on `pipe`."""
        pipe.xack(self.config.stream, self.config.group, entry_id)

    async def claim_from(self, consumer: str, count: int = 1_000) -> list[Delivery[M]]:
        """Take over the pending entries of `consumer` (one known to be dead) at once."""
        pending = await self.redis.xpending_range(
            self.config.stream, self.config.group, "-", "+", count, consumername=consumer
        )
        if not pending:
            return []
        # The claim is one more delivery of each.
        delivered = {entry["message_id"]: entry["times_delivered"] + 1 for entry in pending}
        entries = await self.redis.xclaim(
            self.config.stream, self.config.group, self.config.consumer, 0, list(delivered)
        )
        return await self._recovered(entries, delivered)

    async def _handle_one(
        self,
        handle: Callable[[Delivery[M]], Awaitable[None]],
        delivery: Delivery[M],
        capacity: _Capacity,
    ) -> None:
        self._in_flight.add(delivery.entry_id)
        try:
            await handle(delivery)
        finally:
            self._in_flight.discard(delivery.entry_id)
            capacity.release()

    async def _acknowledged(
        self, handle: Callable[[M], Awaitable[None]], delivery: Delivery[M]
    ) -> None:
        """Handle `delivery`, then acknowledge it; count a failure, dead-letter it at the
        last."""
        try:
            await handle(delivery.message)
        except Exception as exc:
            log.exception("handling %s failed", type(delivery.message).__name__)
            failures = await self.failed(delivery)
            if failures >= self.config.max_deliveries:
                raw = self.codec.encode(delivery.message)
                reason = f"failed {failures} times; last error: {exc!r}"
                await self.dead_letter(delivery.entry_id, raw, reason)
        else:
            await self.ack(delivery.entry_id, redelivered=delivery.deliveries > 1)

    async def _touch_in_flight_forever(self) -> None:
        """Reset the idle time of the entries being handled (XCLAIM JUSTID to ourselves: the
        delivery count stays), a few times per visibility timeout."""
        while True:
            await anyio.sleep(self.config.visibility_timeout_ms / 3000)
            if not self._in_flight:
                continue
            try:
                await self.redis.xclaim(
                    self.config.stream,
                    self.config.group,
                    self.config.consumer,
                    min_idle_time=0,
                    message_ids=list(self._in_flight),
                    justid=True,
                )
            except Exception:
                log.warning("touching entries of %s failed", self.config.stream, exc_info=True)

    async def _xreadgroup(
        self, from_id: str, count: int, block_ms: int | None
    ) -> list[tuple[bytes, dict[bytes, bytes]]]:
        answer = await self.redis.xreadgroup(
            self.config.group,
            self.config.consumer,
            {self.config.stream: from_id},
            count=count,
            block=block_ms,
        )
        return answer[0][1] if answer else []

    async def _reclaim(self, count: int) -> list[Delivery[M]]:
        answer = await self.redis.xautoclaim(
            self.config.stream,
            self.config.group,
            self.config.consumer,
            min_idle_time=self.config.visibility_timeout_ms,
            start_id=self._reclaim_from,
            count=count,
        )
        self._reclaim_from = answer[0]  # "0-0" once the whole list was scanned
        entries = answer[1]
        if entries:
            log.warning("reclaimed %d stuck entries from %s", len(entries), self.config.stream)
        return await self._recovered(entries)

    async def _recovered(
        self,
        entries: list[tuple[bytes, dict[bytes, bytes]]],
        delivered: dict[bytes, int] | None = None,
    ) -> list[Delivery[M]]:
        """Entries delivered before, with how often (`delivered`, else looked up), so endless
        failures end somewhere."""
        deliveries = []
        for entry in entries:
            if not entry[1]:  # trimmed from the stream while pending: nothing left to run
                await self.ack(entry[0])
                continue
            times = delivered.get(entry[0]) if delivered is not None else None
            if times is None:
                pending = await self.redis.xpending_range(
                    self.config.stream, self.config.group, entry[0], entry[0], 1
                )
                times = pending[0]["times_delivered"] if pending else 1
            deliveries += await self._decode_all([entry], deliveries=times)
        return deliveries

    async def _decode_all(
        self, entries: list[tuple[bytes, dict[bytes, bytes]]], *, deliveries: int
    ) -> list[Delivery[M]]:
        decoded = []
        for entry_id, fields in entries:
            raw = fields.get(FIELD, b"")
            try:
                message = self.codec.decode(raw)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                await self.dead_letter(entry_id, raw, f"undecodable: {exc}")
                continue
            if deliveries > self._redeliveries_max:
                await self.dead_letter(entry_id, raw, f"delivered {deliveries} times")
                continue
            decoded.append(Delivery(entry_id, message, deliveries))
        return decoded


class _Capacity:
    """How many more deliveries may run at once; wakes the reader when one finishes."""

    def __init__(self, limit: int) -> None:
        self.free = limit
        self._freed = anyio.Event()

    async def wait_free(self) -> None:
        while self.free <= 0:
            self._freed = anyio.Event()
            await self._freed.wait()

    def release(self) -> None:
        self.free += 1
        self._freed.set()
