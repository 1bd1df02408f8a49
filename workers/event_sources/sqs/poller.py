"""The SQS poller: receives from one queue (long polling), invokes the mapping's function with
batches as Lambda builds them, and deletes what the function handled.

https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html
https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import anyio
import msgspec
from anyio.abc import ObjectReceiveStream, ObjectSendStream

from bus.filters import compile_filter
from bus.quotas import SYNC_PAYLOAD_BYTES
from bus.records import EventSourceMapping
from workers.event_sources.base import (
    EVENT_ENVELOPE_BYTES,
    Backoff,
    BatchResult,
    PollerContext,
    SourceState,
    invoke_batch,
)
from workers.event_sources.sqs.queues import MAX_RECEIVE, WAIT_TIME_S, Message, Queue
from workers.event_sources.sqs.records import filter_view, sqs_record

log = logging.getLogger("tarn.event_sources")

Record = dict[str, Any]

# Batches in flight at once without ScalingConfig.MaximumConcurrency. AWS starts at five and
# scales towards 1,250; ten keeps a laptop responsive and outpaces a local companion.
DEFAULT_MAX_CONCURRENCY = 10
# What a record adds beside its body while a batch gathers towards SYNC_PAYLOAD_BYTES, the
# payload a batch must fit; the real size is checked after (fit_payload).
RECORD_OVERHEAD_BYTES = 1_024
# An empty answer this quick means the endpoint does not long-poll, or a FIFO queue was
# polled without waiting: wait before asking again (or until a batch completes).
QUICK_EMPTY_S = 0.5
EMPTY_FIRST_S = 0.05
EMPTY_MAX_S = 0.5
HAND_BACK_TIMEOUT_S = 2.0


class SqsPoller:
    """Polls one SQS mapping until cancelled (see base.py's Poller)."""

    def __init__(self, context: PollerContext, mapping: EventSourceMapping) -> None:
        self.context = context
        self.mapping = mapping
        self.queue = Queue(context.companion, mapping.event_source_arn, context.detached)
        self.filter = compile_filter(mapping.filter_patterns)
        self.source = SourceState(context, mapping)
        self.in_flight = 0  # batches received and not yet done with
        self.batch_done = anyio.Event()  # set (and replaced) whenever one is

    async def run(self) -> None:
        try:
            await self.queue.open()
        except Exception as exc:
            await self.source.failed(exc)
            raise
        await self.source.readable()
        concurrency = self.mapping.maximum_concurrency or DEFAULT_MAX_CONCURRENCY
        # Unbuffered: the receiver holds one batch until an invoker is free, no more.
        send, receive = anyio.create_memory_object_stream[list[Record]](0)
        async with send, receive, anyio.create_task_group() as tasks:
            # One receive at a time; the concurrency is in the invokes. So a batching window
            # fills one batch rather than half-filling two; a FIFO receive starts only after
            # the one before has locked its message groups; and on moto, whose receives are not
            # atomic, two receives never return the same message (and, CPU-bound there, more
            # receives would not drain it faster).
            tasks.start_soon(self._receive_forever, send)
            for _ in range(concurrency):
                tasks.start_soon(self._invoke_forever, receive)

    async def _receive_forever(self, send: ObjectSendStream[list[Record]]) -> None:
        errors = Backoff(0.1, 10.0)
        empty = Backoff(EMPTY_FIRST_S, EMPTY_MAX_S)
        carried: list[Message] = []
        while True:
            started = time.monotonic()
            try:
                messages = await self._gather(carried, self._wait_s())
            except Exception as exc:
                log.warning("receiving from %s failed: %s", self.mapping.event_source_arn, exc)
                await self.source.failed(exc)
                if self.source.gone:
                    raise  # its URL may change when it is made again: start anew
                await errors.sleep()
                continue
            errors.reset()
            await self.source.readable()
            if not messages:
                if time.monotonic() - started < QUICK_EMPTY_S:
                    await empty.sleep(until=self.batch_done)
                continue
            empty.reset()
            records = [self._record(message) for message in messages]
            batch, rest = fit_payload(records)
            carried = messages[len(batch) :]
            await self._hand_over(send, batch, rest)

    def _wait_s(self) -> int:
        """Long polling, except on a FIFO queue with batches in flight: a long receive that
        began while a group was locked may miss that group's next messages until it ends
        (moto's does, and spins meanwhile); so poll, and again when a batch is done."""
        return 0 if self.queue.fifo and self.in_flight else WAIT_TIME_S

    async def _gather(self, carried: list[Message], wait_s: int) -> list[Message]:
        """One batch: up to BatchSize messages, within MaximumBatchingWindowInSeconds of the
        first (waiting up to `wait_s` for that first one)."""
        size = self.mapping.batch_size
        batch = carried or await self.queue.receive(min(size, MAX_RECEIVE), wait_s)
        window_s = self.mapping.maximum_batching_window_s
        if not batch or not window_s:
            return batch
        deadline = anyio.current_time() + window_s
        while len(batch) < size and _approximate_bytes(batch) < SYNC_PAYLOAD_BYTES:
            remaining_s = deadline - anyio.current_time()
            if remaining_s <= 0:
                break
            wait_s = min(math.ceil(remaining_s), WAIT_TIME_S)
            # Cancelled at the window's end, the receive hands back what comes later.
            with anyio.move_on_after(remaining_s):
                batch = batch + await self.queue.receive(size - len(batch), wait_s)
        return batch

    async def _hand_over(
        self, send: ObjectSendStream[list[Record]], batch: list[Record], rest: list[Record]
    ) -> None:
        """Pass `batch` to a free invoker; if the poller stops first, hand the batch (and
        `rest`, carried to the next one) back to the queue."""
        self.in_flight += 1
        try:
            await send.send(batch)
        except anyio.get_cancelled_exc_class():
            with anyio.move_on_after(HAND_BACK_TIMEOUT_S, shield=True):
                await self.queue.release([record["receiptHandle"] for record in batch + rest])
            raise

    async def _invoke_forever(self, receive: ObjectReceiveStream[list[Record]]) -> None:
        throttled = Backoff(0.5, 10.0)
        async for batch in receive:
            try:
                result = await self._process(batch)
            finally:
                self.in_flight -= 1
                self.batch_done.set()
                self.batch_done = anyio.Event()
            if result is not None and (result.throttled or result.function_missing):
                await throttled.sleep()
            else:
                throttled.reset()

    async def _process(self, records: list[Record]) -> BatchResult | None:
        """Invoke with the batch's matching records; delete those handled and those filtered
        out (AWS deletes what no filter matches)."""
        kept: list[Record] = []
        done: list[Record] = []
        for record in records:
            (kept if self._matches(record) else done).append(record)
        result = None
        if kept:
            result = await invoke_batch(self.context, self.mapping, {"Records": kept})
            done += handled(kept, result)
        if done:
            try:
                await self.queue.delete([record["receiptHandle"] for record in done])
            except Exception as exc:  # they come back after the visibility timeout
                log.warning("deleting from %s failed: %s", self.mapping.event_source_arn, exc)
        return result

    def _record(self, message: Message) -> Record:
        return sqs_record(message, self.mapping.event_source_arn, self.context.settings.region)

    def _matches(self, record: Record) -> bool:
        return not self.mapping.filter_patterns or self.filter.matches(filter_view(record))


def handled(records: list[Record], result: BatchResult) -> list[Record]:
    """The records to delete after the function ran with them.

    A function error fails the whole batch. With ReportBatchItemFailures, every record but
    the reported ones succeeded; a malformed report, or one naming a message that is not in
    the batch, fails the whole batch.
    https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
    """
    if not result.succeeded or result.malformed_report:
        return []
    if result.failed_item_ids is None:
        return records
    failed = set(result.failed_item_ids)
    if not failed <= {record["messageId"] for record in records}:
        return []
    return [record for record in records if record["messageId"] not in failed]


def fit_payload(
    records: list[Record], limit: int = SYNC_PAYLOAD_BYTES
) -> tuple[list[Record], list[Record]]:
    """The longest prefix of `records` whose event fits the invoke payload, and the rest."""
    size = EVENT_ENVELOPE_BYTES
    for count, record in enumerate(records):
        size += len(msgspec.json.encode(record)) + (1 if count else 0)
        if size > limit and count:
            return records[:count], records[count:]
    return records, []


def _approximate_bytes(messages: list[Message]) -> int:
    return sum(len(m.get("Body", "")) + RECORD_OVERHEAD_BYTES for m in messages)
