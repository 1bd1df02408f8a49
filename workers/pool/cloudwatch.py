"""Function logs delivered to the companion's CloudWatch Logs, in the background.

Each environment hands over its lines once per invocation (a non-blocking put on a bounded
queue); one task sends them with PutLogEvents to the function's log group, in the stream named
by AWS_LAMBDA_LOG_STREAM_NAME, as https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html
describes. When the companion is down, logs are dropped with a warning; invokes never wait.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from functools import partial

import anyio
import httpx

from bus.aws import Companion, CompanionError
from workers.pool.logs import LogEvent as Event
from workers.pool.logs import LogSink

log = logging.getLogger("tarn.pool")

Batch = tuple[str, str, list[Event]]  # (group, stream, events)

MAX_QUEUED_BATCHES = 10_000
# PutLogEvents limits: https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html
MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD_BYTES = 26
MAX_EVENT_BYTES = 256 * 1024 - EVENT_OVERHEAD_BYTES
TARGET = "Logs_20140328."
ALREADY_EXISTS = "ResourceAlreadyExistsException"


class LogShipper:
    """Queues environments' log events and sends them to CloudWatch Logs."""

    def __init__(self, companion: Companion, max_queued: int = MAX_QUEUED_BATCHES) -> None:
        self.companion = companion
        self._send, self._receive = anyio.create_memory_object_stream[Batch](max_queued)
        self._ready: set[tuple[str, str]] = set()  # streams known to exist
        self._failing = False  # warn once per outage, not once per batch
        self._dropping = False

    def sink(self, group: str, stream: str) -> LogSink:
        """What one environment hands its events to."""
        return partial(self.ship, group, stream)

    def ship(self, group: str, stream: str, events: list[Event]) -> None:
        """Queue `events`; never waits. A full queue drops them (the companion is behind)."""
        try:
            self._send.send_nowait((group, stream, events))
            self._dropping = False
        except anyio.WouldBlock:
            if not self._dropping:
                log.warning("CloudWatch Logs delivery is behind; dropping function log lines")
            self._dropping = True

    async def run(self) -> None:
        """Deliver queued events until cancelled."""
        async for batch in self._receive:
            for (group, stream), events in _merged([batch, *self._queued()]).items():
                await self._deliver(group, stream, events)

    async def flush(self) -> None:
        """Deliver what is queued now."""
        for (group, stream), events in _merged(self._queued()).items():
            await self._deliver(group, stream, events)

    async def aclose(self) -> None:
        """Deliver what is queued (at shutdown, with a time limit set by the caller), then
        close the queue."""
        try:
            await self.flush()
        finally:
            self._send.close()
            self._receive.close()

    def _queued(self) -> Iterator[Batch]:
        while True:
            try:
                yield self._receive.receive_nowait()
            except (anyio.WouldBlock, anyio.EndOfStream):
                return

    async def _deliver(self, group: str, stream: str, events: list[Event]) -> None:
        try:
            await self._ensure_stream(group, stream)
            for chunk in chunks(events):
                body = {"logGroupName": group, "logStreamName": stream, "logEvents": chunk}
                await self.companion.ok("logs", TARGET + "PutLogEvents", body)
        except (httpx.HTTPError, CompanionError) as exc:
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


def _merged(batches: Iterator[Batch] | list[Batch]) -> dict[tuple[str, str], list[Event]]:
    """Batches of one stream joined, so a busy environment costs one call, not one each."""
    merged: dict[tuple[str, str], list[Event]] = {}
    for group, stream, events in batches:
        merged.setdefault((group, stream), []).extend(events)
    return merged


def chunks(events: list[Event]) -> Iterator[list[dict[str, object]]]:
    """PutLogEvents bodies' events within AWS's limits; empty messages are not allowed."""
    chunk: list[dict[str, object]] = []
    size = 0
    for timestamp, message in events:
        if not message:
            continue
        data = message.encode()[:MAX_EVENT_BYTES]
        if chunk and (
            len(chunk) == MAX_BATCH_EVENTS
            or size + len(data) + EVENT_OVERHEAD_BYTES > MAX_BATCH_BYTES
        ):
            yield chunk
            chunk, size = [], 0
        chunk.append({"timestamp": timestamp, "message": data.decode(errors="ignore")})
        size += len(data) + EVENT_OVERHEAD_BYTES
    if chunk:
        yield chunk
