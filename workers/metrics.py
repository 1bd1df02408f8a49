"""AWS/Lambda metrics from the invocation records, put to the companion's CloudWatch in batches
on a timer, never on the invoke path. Runs in the `functions` worker's process, beside it.

The metrics and dimensions AWS emits: https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
Each record is read once by a consumer group, so several processes share the work.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio

from bus.aws import Companion, CompanionError
from bus.invocation_records import (
    FAILED,
    RAN,
    AnyRecord,
    AsyncEventSettled,
    InvocationRecord,
    decode_entries,
)
from workers.context import WorkerContext

if TYPE_CHECKING:
    from workers.runner import Role

log = logging.getLogger("tarn.metrics")

GROUP = "metrics"
NAMESPACE = "AWS/Lambda"
VERSION = "2010-08-01"
READ_COUNT = 1_000
# PutMetricData takes at most 1,000 metrics a request.
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html
PUT_MAX = 1_000
MINUTE_MS = 60_000

Dimensions = tuple[tuple[str, str], ...]
Key = tuple[str, Dimensions, int]  # (metric, dimensions, minute in epoch ms)


@dataclass
class Statistic:
    count: int = 0
    total: float = 0.0
    low: float = float("inf")
    high: float = float("-inf")

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value
        self.low = min(self.low, value)
        self.high = max(self.high, value)


@dataclass
class Batch:
    """The metrics of a run of records, per metric, dimensions and minute."""

    counts: dict[Key, float] = field(default_factory=lambda: defaultdict(float))
    # Millisecond statistics: Duration, AsyncEventAge, IteratorAge.
    durations: dict[Key, Statistic] = field(default_factory=lambda: defaultdict(Statistic))
    spans: dict[tuple[Dimensions, int], list[tuple[int, int]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def add(self, record: AnyRecord) -> None:
        if isinstance(record, AsyncEventSettled):
            if record.condition != "Success":
                self._count("AsyncEventsDropped", _dimensions(record), record.at_ms)
            return
        for dimensions in _all_dimensions(record):
            self._invocation(record, dimensions)

    def _invocation(self, record: InvocationRecord, dimensions: Dimensions) -> None:
        at = record.end_ms
        if record.outcome == "throttle":
            self._count("Throttles", dimensions, at)
            return
        if record.outcome not in RAN:
            return
        self._count("Invocations", dimensions, at)
        self._count("Errors", dimensions, at, 1.0 if record.outcome in FAILED else 0.0)
        self.durations["Duration", dimensions, _minute(at)].add(record.duration_ms)
        self.spans[dimensions, _minute(at)].append((record.start_ms, record.end_ms))
        if record.trigger == "async:1":
            self._count("AsyncEventsReceived", dimensions, at)
        if record.queued_ms is not None:  # an Event's attempt, or a stream's batch
            age_ms = float(max(record.start_ms - record.queued_ms, 0))
            metric = "AsyncEventAge" if record.trigger.startswith("async:") else "IteratorAge"
            self.durations[metric, dimensions, _minute(at)].add(age_ms)

    def _count(self, metric: str, dimensions: Dimensions, at_ms: int, value: float = 1.0) -> None:
        self.counts[metric, dimensions, _minute(at_ms)] += value

    def metric_data(self) -> list[dict[str, object]]:
        """PutMetricData's MetricData members."""
        data: list[dict[str, object]] = []
        for (metric, dimensions, minute), value in self.counts.items():
            data.append(_datum(metric, dimensions, minute, "Count", Value=value))
        for (metric, dimensions, minute), stat in self.durations.items():
            values = {"SampleCount": stat.count, "Sum": stat.total}
            values |= {"Minimum": stat.low, "Maximum": stat.high}
            data.append(_datum(metric, dimensions, minute, "Milliseconds", StatisticValues=values))
        for (dimensions, minute), spans in self.spans.items():
            value = float(most_at_once(spans))
            data.append(_datum("ConcurrentExecutions", dimensions, minute, "Count", Value=value))
        return data


def _minute(at_ms: int) -> int:
    return at_ms - at_ms % MINUTE_MS


def _dimensions(record: AnyRecord) -> Dimensions:
    return (("FunctionName", record.function),)


def _all_dimensions(record: InvocationRecord) -> list[Dimensions]:
    """FunctionName always; FunctionName and Resource (`name:qualifier`) for a qualified call."""
    named = _dimensions(record)
    if not record.qualifier:
        return [named]
    return [named, (*named, ("Resource", f"{record.function}:{record.qualifier}"))]


def most_at_once(spans: list[tuple[int, int]]) -> int:
    """The largest number of (start, end) spans that overlap at one moment."""
    edges = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    return peak


def _datum(
    metric: str, dimensions: Dimensions, minute_ms: int, unit: str, **value: object
) -> dict[str, object]:
    stamp = datetime.datetime.fromtimestamp(minute_ms / 1000, datetime.UTC)
    return {
        "MetricName": metric,
        "Dimensions": [{"Name": name, "Value": text} for name, text in dimensions],
        "Timestamp": stamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Unit": unit,
        **value,
    }


def query_parameters(data: list[dict[str, object]]) -> dict[str, str]:
    """MetricData as the query protocol flattens it: MetricData.member.1.MetricName, ..."""
    flat: dict[str, str] = {"Namespace": NAMESPACE}

    def put(prefix: str, value: object) -> None:
        if isinstance(value, dict):
            for name, inner in value.items():
                put(f"{prefix}.{name}", inner)
        elif isinstance(value, list):
            for number, inner in enumerate(value, start=1):
                put(f"{prefix}.member.{number}", inner)
        else:
            flat[prefix] = str(value)

    put("MetricData", data)
    return flat


class MetricsPublisher:
    """Reads new invocation records every interval and puts their metrics to CloudWatch."""

    def __init__(self, context: WorkerContext, companion: Companion) -> None:
        self.redis = context.redis
        self.key = context.keys.invocation_records
        self.consumer = context.consumer
        self.interval_s = context.settings.metrics_interval_s
        self.companion = companion
        self._failing = False

    async def run(self) -> None:
        await self._join()
        while True:
            await anyio.sleep(self.interval_s)
            try:
                await self.publish()
            except Exception:
                log.warning("putting AWS/Lambda metrics failed", exc_info=True)

    async def _join(self) -> None:
        try:
            await self.redis.xgroup_create(self.key, GROUP, id="$", mkstream=True)
        except Exception as exc:  # BUSYGROUP: it exists already
            if "BUSYGROUP" not in str(exc):
                raise

    async def publish(self) -> int:
        """Put the metrics of every record not yet read; how many records that was."""
        batch, ids = Batch(), []
        while True:
            answer = await self.redis.xreadgroup(
                GROUP, self.consumer, {self.key: ">"}, count=READ_COUNT
            )
            entries = answer[0][1] if answer else []
            if not entries:
                break
            ids += [entry_id for entry_id, _ in entries]
            for _, record in decode_entries(entries):
                batch.add(record)
        data = batch.metric_data()
        for start in range(0, len(data), PUT_MAX):
            await self._put(data[start : start + PUT_MAX])
        if ids:
            await self.redis.xack(self.key, GROUP, *ids)
        return len(ids)

    async def _put(self, data: list[dict[str, object]]) -> None:
        """One PutMetricData; when CloudWatch is away the metrics are dropped, with a warning
        once per outage (records stay readable in the console)."""
        try:
            parameters = query_parameters(data)
            await self.companion.query("monitoring", "PutMetricData", VERSION, parameters)
        except CompanionError as exc:
            if not self._failing:
                log.warning("cannot put AWS/Lambda metrics to CloudWatch: %r", exc)
            self._failing = True
            return
        self._failing = False


class WithMetrics:
    """A worker role with the metrics publisher beside it, in one process and task group
    (so `tarn up` starts no process for metrics alone)."""

    def __init__(self, role: Role, context: WorkerContext) -> None:
        self.role = role
        companion, settings = context.aws, context.settings
        enabled = companion is not None and settings.invocation_records > 0
        self.publisher = MetricsPublisher(context, companion) if enabled and companion else None

    async def run(self) -> None:
        if self.publisher is None:
            await self.role.run()
            return
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(self.publisher.run)
            await self.role.run()
            tasks.cancel_scope.cancel()

    async def aclose(self) -> None:
        await self.role.aclose()
