"""What the companion's CloudWatch Logs keeps stays bounded (a hook on moto's log streams).

moto keeps every log event it is sent, in memory and in every snapshot, for ever; Tarn sends
it every line of every invocation. After each PutLogEvents, a log group keeps the events of
its retention period (`RetentionInDays`, as on AWS) and at most `log_events_kept` of them (the
newest, TARN_LOG_EVENTS_KEPT), so a long soak does not grow the companion.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from moto.logs.models import LogEvent, LogGroup, LogStream

from services.companion.tarn import settings

DAY_MS = 86_400_000
# A group over its cap is trimmed to this share of it, so trimming (which sorts the group's
# events) happens once per many puts, not on each one.
TRIM_TO = 0.9
# What the hook replaces; tests check it is still there with this shape after a moto upgrade.
HOOKED: list[tuple[object, str, tuple[str, ...]]] = [
    (LogStream, "put_log_events", ("self", "log_events")),
]


def install() -> None:
    original: Callable[..., str] = LogStream.put_log_events
    kept = settings().log_events_kept

    def put_log_events(self: LogStream, log_events: list[dict[str, Any]]) -> str:
        token = original(self, log_events)
        expire(self.log_group, int(time.time() * 1000))
        cap(self.log_group, kept)
        return token

    LogStream.put_log_events = put_log_events  # type: ignore[method-assign]


def expire(group: LogGroup, now_ms: int) -> None:
    """Drop the group's events older than its retention, if it has one."""
    days = group.retention_in_days
    if not days:
        return
    oldest = now_ms - int(days) * DAY_MS
    for stream in group.streams.values():
        if stream.events and stream.events[0].timestamp < oldest:
            _keep(stream, [event for event in stream.events if event.timestamp >= oldest])


def cap(group: LogGroup, kept: int) -> None:
    """Past `kept` events in the group, keep the newest `TRIM_TO` share of `kept`."""
    streams = list(group.streams.values())
    if sum(len(stream.events) for stream in streams) <= kept:
        return
    stamps = sorted(event.timestamp for stream in streams for event in stream.events)
    cutoff = stamps[-int(kept * TRIM_TO)] if kept > 0 else stamps[-1] + 1
    for stream in streams:
        _keep(stream, [event for event in stream.events if event.timestamp >= cutoff])


def _keep(stream: LogStream, events: list[LogEvent]) -> None:
    if len(events) < len(stream.events):
        stream.stored_bytes = sum(len(event.message) for event in events)
        stream.events = events
