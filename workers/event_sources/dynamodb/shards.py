"""Reading one shard of a DynamoDB stream for a mapping: from its checkpoint, in batches
gathered as Lambda gathers them (BatchSize, MaximumBatchingWindowInSeconds, the invocation
payload limit, FilterCriteria), delivered in order, checkpointed after each.

https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import anyio
import msgspec

from bus.aws import CompanionError
from bus.filters import EventFilter
from bus.quotas import SYNC_PAYLOAD_BYTES
from bus.records import EventSourceMapping
from workers.event_sources.base import EVENT_ENVELOPE_BYTES, Backoff, PollerContext
from workers.event_sources.dynamodb.batches import BatchDelivery
from workers.event_sources.dynamodb.checkpoints import Checkpoints
from workers.event_sources.dynamodb.streams import Change, Shard, StreamClient, change_of

log = logging.getLogger("tarn.event_sources")

# Lambda polls each shard four times a second (with-ddb.html); an idle shard slows to once
# a second, and errors back off further.
POLL_INTERVAL_S = 0.25
IDLE_POLL_MAX_S = 1.0
ERROR_FIRST_DELAY_S = 1.0
ERROR_MAX_DELAY_S = 30.0
TRIMMED = "TrimmedDataAccessException"  # the checkpoint is older than the stream keeps


@dataclass(frozen=True, slots=True)
class Batch:
    changes: list[Change]
    through: str | None  # the last sequence number read into it (records skipped included)


class ShardReader:
    """Delivers one shard's records until the shard ends (closed and read) or cancellation."""

    def __init__(
        self,
        context: PollerContext,
        mapping: EventSourceMapping,
        shard: Shard,
        event_filter: EventFilter | None,
    ) -> None:
        self.mapping = mapping
        self.shard_id = shard.shard_id
        self.event_filter = event_filter
        self.streams = StreamClient(context.companion, mapping.event_source_arn)
        self.checkpoints = Checkpoints(context.redis, context.keys, mapping.uuid)
        self.delivery = BatchDelivery(context, mapping, shard.shard_id, self._advance)
        self.iterator: str | None = None
        self.held_iterator = False  # about to read with the iterator a LATEST start stored
        self.ended = False
        self.carry: list[dict[str, Any]] = []  # read, but beyond the last batch's payload
        self.errors = Backoff(ERROR_FIRST_DELAY_S, ERROR_MAX_DELAY_S)

    async def run(self) -> None:
        while not (self.ended and not self.carry):
            try:
                batch = await self._gather()
                if batch.changes:
                    await self.delivery.deliver(batch.changes)
                if batch.through is not None:
                    await self._advance(batch.through)
                self.errors.reset()
            except Exception as exc:
                await self._recover(exc)
        await self.checkpoints.finish(self.shard_id)
        log.info("mapping %s: shard %s read to its end", self.mapping.uuid, self.shard_id)

    async def _recover(self, exc: Exception) -> None:
        """Back off, then read again from the checkpoint (what was read since comes again)."""
        log.warning("mapping %s shard %s: %r", self.mapping.uuid, self.shard_id, exc)
        if self.held_iterator and isinstance(exc, CompanionError) and not exc.unreachable:
            await self._restart_at_latest()  # the stored iterator expired
        self.iterator, self.carry, self.ended = None, [], False
        await self.errors.sleep()

    async def _restart_at_latest(self) -> None:
        log.warning(
            "mapping %s shard %s: the stored LATEST iterator was refused; taking a new one",
            self.mapping.uuid,
            self.shard_id,
        )
        try:
            iterator = await self.streams.iterator(self.shard_id, "LATEST")
            await self.checkpoints.hold_iterator(self.shard_id, iterator)
        except Exception as exc:  # the next attempt tries the stored one, then this, again
            log.warning("mapping %s: no LATEST iterator: %r", self.mapping.uuid, exc)

    async def _advance(self, sequence_number: str) -> None:
        await self.checkpoints.advance(self.shard_id, sequence_number)

    async def _gather(self) -> Batch:
        """Read until a full batch, the end of the batching window, or the end of the shard;
        a read of only filtered-out records returns at once, to checkpoint them."""
        changes: list[Change] = []
        through: str | None = None
        size = EVENT_ENVELOPE_BYTES
        deadline: float | None = None
        idle = 0
        while True:
            wanted = self.mapping.batch_size - len(changes)
            records = await self._read(wanted)
            for index, raw in enumerate(records):
                change = change_of(raw, self.mapping.event_source_arn)
                if self.event_filter is not None and not self.event_filter.matches(change.record):
                    through = change.sequence_number
                    continue
                encoded = len(msgspec.json.encode(change.record)) + 1
                # The batch's event stays within a synchronous invocation's payload quota.
                if changes and size + encoded > SYNC_PAYLOAD_BYTES:
                    self.carry = records[index:] + self.carry
                    return Batch(changes, through)
                changes.append(change)
                through, size = change.sequence_number, size + encoded
            if changes and deadline is None:
                deadline = anyio.current_time() + self.mapping.maximum_batching_window_s
            if self._complete(changes, through, deadline):
                return Batch(changes, through)
            idle = 0 if records else idle + 1
            await anyio.sleep(self._pause(idle, len(records) >= wanted, deadline))

    def _complete(self, changes: list[Change], through: str | None, deadline: float | None) -> bool:
        if len(changes) >= self.mapping.batch_size or (self.ended and not self.carry):
            return True
        if not changes:
            return through is not None
        return deadline is not None and anyio.current_time() >= deadline

    def _pause(self, idle: int, full_read: bool, deadline: float | None) -> float:
        """Until the next read: none after a full read, longer while the shard stays idle,
        never past the batching window."""
        pause_s = 0.0 if full_read else POLL_INTERVAL_S * 2 ** min(max(idle - 1, 0), 4)
        pause_s = min(pause_s, IDLE_POLL_MAX_S)
        if deadline is not None:
            pause_s = min(pause_s, max(deadline - anyio.current_time(), 0.0))
        return pause_s

    async def _read(self, limit: int) -> list[dict[str, Any]]:
        """Up to `limit` records: those carried over first, then from the stream."""
        if self.carry:
            records, self.carry = self.carry[:limit], self.carry[limit:]
            return records
        if self.ended:
            return []
        if self.iterator is None:
            self.iterator = await self._start()
        page = await self.streams.records(self.iterator, limit)
        self.held_iterator = False  # it answered, so it is still good
        self.iterator = page.next_iterator
        self.ended = page.next_iterator is None
        return page.records

    async def _start(self) -> str:
        """An iterator at the checkpoint; a shard without one is read from its beginning (a
        LATEST start stored an iterator for each shard it found)."""
        checkpoint = await self.checkpoints.get(self.shard_id)
        self.held_iterator = False
        if checkpoint is not None and checkpoint.sequence_number is not None:
            try:
                return await self.streams.iterator(
                    self.shard_id, "AFTER_SEQUENCE_NUMBER", checkpoint.sequence_number
                )
            except CompanionError as exc:
                if exc.code != TRIMMED:
                    raise
                log.warning("mapping %s: checkpoint trimmed; from TRIM_HORIZON", self.mapping.uuid)
        elif checkpoint is not None and checkpoint.iterator is not None:
            self.held_iterator = True
            return checkpoint.iterator
        return await self.streams.iterator(self.shard_id, "TRIM_HORIZON")
