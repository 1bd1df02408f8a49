"""Function logs delivered to the companion's CloudWatch Logs, in the background, in batches.

Each environment hands over its lines once per invocation (`ship`, which only appends to that
log stream's batch); one task sends a stream's batch with PutLogEvents, to the function's log
group, in the stream named by AWS_LAMBDA_LOG_STREAM_NAME, as
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html describes. A batch
goes out about a second after its first line, or at once when it reaches PutLogEvents' limits,
so a busy stream costs one signed request a second, not one per invocation. When the companion
is down, logs are dropped with a warning; invokes never wait. `aclose` sends what is left.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from functools import partial

import anyio

from bus.aws import Companion, CompanionError
from workers.pool.logs import LogEvent as Event
from workers.pool.logs import LogSink

log = logging.getLogger("tarn.pool")

Stream = tuple[str, str]  # (group, stream)

# A batch waits this long for more lines before it is sent.
BATCH_WINDOW_S = 1.0
# Lines waiting for delivery, all streams together; past it (the companion is behind), dropped.
MAX_PENDING_EVENTS = 200_000
# PutLogEvents limits: https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html
MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD_BYTES = 26
MAX_EVENT_BYTES = 256 * 1024 - EVENT_OVERHEAD_BYTES
TARGET = "Logs_20140328."
ALREADY_EXISTS = "ResourceAlreadyExistsException"


class LogShipper:
    """Batches environments' log events per log stream and sends them to CloudWatch Logs."""

    def __init__(
        self,
        companion: Companion,
        window_s: float = BATCH_WINDOW_S,
        max_pending: int = MAX_PENDING_EVENTS,
    ) -> None:
        self.companion = companion
        self.window_s = window_s
        self.max_pending = max_pending
        self._batches: dict[Stream, list[Event]] = {}
        self._sizes: dict[Stream, int] = {}  # about the bytes of each batch (characters)
        self._pending = 0
        self._arrived = anyio.Event()  # a batch has lines
        self._full = anyio.Event()  # a batch reached PutLogEvents' limits
        self._ready: set[Stream] = set()  # streams known to exist
        self._failing = False  # warn once per outage, not once per batch
        self._dropping = False

    def sink(self, group: str, stream: str) -> LogSink:
        """What one environment hands its events to."""
        return partial(self.ship, (group, stream))

    def ship(self, where: Stream, events: list[Event]) -> None:
        """Add `events` to their stream's batch; never waits. Past `max_pending` lines in all
        batches (the companion is behind) they are dropped."""
        if self._pending + len(events) > self.max_pending:
            if not self._dropping:
                log.warning("CloudWatch Logs delivery is behind; dropping function log lines")
            self._dropping = True
            return
        self._dropping = False
        self._add(where, events)

    def _add(self, where: Stream, events: list[Event], first: bool = False) -> None:
        batch = self._batches.setdefault(where, [])
        if first:  # sent before these: a batch a cancelled flush gives back
            batch[:0] = events
        else:
            batch += events
        self._pending += len(events)
        size = self._sizes.get(where, 0) + sum(len(message) for _, message in events)
        self._sizes[where] = size
        self._arrived.set()
        if len(batch) >= MAX_BATCH_EVENTS or size >= MAX_BATCH_BYTES:
            self._full.set()

    async def run(self) -> None:
        """Send batches until cancelled: each about `window_s` after its first line, or as
        soon as one is full."""
        while True:
            await self._arrived.wait()
            with anyio.move_on_after(self.window_s):
                await self._full.wait()
            await self.flush()

    async def flush(self) -> None:
        """Send every batch now. Cancelled part way, what was not sent is kept for `aclose`."""
        batches, self._batches, self._sizes = self._batches, {}, {}
        self._pending = 0
        self._arrived, self._full = anyio.Event(), anyio.Event()
        try:
            while batches:
                (group, stream), events = next(iter(batches.items()))
                await self._deliver(group, stream, events)
                del batches[group, stream]
        finally:
            for where, events in batches.items():
                self._add(where, events, first=True)

    async def aclose(self) -> None:
        """Send what is left (at shutdown, within a time limit the caller sets)."""
        await self.flush()

    async def _deliver(self, group: str, stream: str, events: list[Event]) -> None:
        try:
            await self._ensure_stream(group, stream)
            for chunk in chunks(events):
                body = {"logGroupName": group, "logStreamName": stream, "logEvents": chunk}
                await self.companion.ok("logs", TARGET + "PutLogEvents", body)
        except CompanionError as exc:
            self._ready.discard((group, stream))  # it may have been deleted: create it again
            if not self._failing:
                log.warning("cannot deliver function logs to CloudWatch Logs: %r", exc)
            self._failing = True
            return
        if self._failing:
            log.info("function logs reach CloudWatch Logs again")
        self._failing = False

    async def _ensure_stream(self, group: str, stream: str) -> None:
        if (group, stream) in self._ready:
            return
        for operation, body in (
            ("CreateLogGroup", {"logGroupName": group}),
            ("CreateLogStream", {"logGroupName": group, "logStreamName": stream}),
        ):
            try:
                await self.companion.ok("logs", TARGET + operation, body)
            except CompanionError as exc:
                if exc.code != ALREADY_EXISTS:
                    raise
        self._ready.add((group, stream))


def chunks(events: list[Event]) -> Iterator[list[dict[str, object]]]:
    """PutLogEvents bodies' events within AWS's limits; empty messages are not allowed."""
    chunk: list[dict[str, object]] = []
    size = 0
    for timestamp, message in events:
        if not message:
            continue
        # An ASCII line's bytes are its characters (isascii() reads a flag): most lines are
        # counted without encoding them; the others are encoded and cut at the limit.
        if message.isascii() and len(message) <= MAX_EVENT_BYTES:
            length = len(message)
        else:
            data = message.encode()[:MAX_EVENT_BYTES]
            message, length = data.decode(errors="ignore"), len(data)
        if chunk and (
            len(chunk) == MAX_BATCH_EVENTS or size + length + EVENT_OVERHEAD_BYTES > MAX_BATCH_BYTES
        ):
            yield chunk
            chunk, size = [], 0
        chunk.append({"timestamp": timestamp, "message": message})
        size += length + EVENT_OVERHEAD_BYTES
    if chunk:
        yield chunk
