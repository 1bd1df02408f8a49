"""The console's summaries under `/_tarn/`: per-function graphs and totals from the records,
async events waiting / in retry / ended, the live worker instances, and a mapping's source
depth (read from the companion)."""

from __future__ import annotations

import time

import msgspec
from quart import Response, request
from redis.asyncio import Redis

from bus.aws import CompanionError, queue_url
from bus.invocation_records import (
    FAILED,
    RAN,
    SCAN_MAX,
    AnyRecord,
    AsyncEventSettled,
    InvocationRecord,
    matches,
    newest,
    now_ms,
)
from bus.messages import ASYNC_COMMANDS
from bus.transport.heartbeats import STALE_AFTER_MS
from services.console.blueprint import blueprint, int_arg
from services.context import api
from services.responses import json_response

MINUTE_MS = 60_000
ASYNC_STREAM_GROUP = "async"  # the async worker's consumer group (workers/async_invoke)
IN_RETRY_SHOWN = 1_000
QUEUE_DEPTH = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]


@blueprint.get("/_tarn/graphs")
async def graphs() -> Response:
    """?function=&minutes=<1..1440>: per minute, invocations, errors, throttles and duration
    p50/p99 (ms), oldest minute first."""
    context = api()
    minutes = int_arg("minutes", 60, low=1, high=1440)
    end = (now_ms() // MINUTE_MS + 1) * MINUTE_MS
    start = end - minutes * MINUTE_MS
    wanted = matches(function=request.args.get("function", ""))
    found = await newest(context.redis, context.keys, wanted, since_ms=start, limit=SCAN_MAX)
    buckets: list[list[InvocationRecord]] = [[] for _ in range(minutes)]
    for _, record in found:
        if isinstance(record, InvocationRecord):
            buckets[min((record.end_ms - start) // MINUTE_MS, minutes - 1)].append(record)
    points = [_point(start + i * MINUTE_MS, bucket) for i, bucket in enumerate(buckets)]
    return json_response({"start_ms": start, "minute_ms": MINUTE_MS, "points": points})


def _point(at_ms: int, records: list[InvocationRecord]) -> dict[str, object]:
    durations = sorted(r.duration_ms for r in records if r.outcome in RAN)
    return {
        "at_ms": at_ms,
        "invocations": len(durations),
        "errors": sum(r.outcome in FAILED for r in records),
        "throttles": sum(r.outcome == "throttle" for r in records),
        "p50": percentile(durations, 0.50),
        "p99": percentile(durations, 0.99),
    }


def percentile(ordered: list[float], share: float) -> float | None:
    """Nearest-rank percentile of an ascending list; None for none."""
    if not ordered:
        return None
    rank = max(int(-(-share * len(ordered) // 1)), 1)
    return round(ordered[rank - 1], 2)


@blueprint.get("/_tarn/function-summaries")
async def functions_summary() -> Response:
    """Per function: its last invocation and, over the last hour, invocations and errors."""
    context = api()
    since = now_ms() - 60 * MINUTE_MS
    found = await newest(context.redis, context.keys, matches(), since_ms=since, limit=SCAN_MAX)
    summary: dict[str, FunctionSummary] = {}
    for _, record in found:  # newest first: the first seen is the last invocation
        if not isinstance(record, InvocationRecord):
            continue
        totals = summary.get(record.function)
        if totals is None:
            totals = summary[record.function] = FunctionSummary(
                last_ms=record.end_ms, last_outcome=record.outcome
            )
        totals.invocations += record.outcome in RAN
        totals.errors += record.outcome in FAILED
        totals.throttles += record.outcome == "throttle"
    return json_response({"functions": summary})


class FunctionSummary(msgspec.Struct):
    last_ms: int
    last_outcome: str
    invocations: int = 0
    errors: int = 0
    throttles: int = 0


@blueprint.get("/_tarn/async")
async def async_events() -> Response:
    """Event invocations: waiting for an attempt (all functions), in retry and ended (per
    function, ended over the last hour: how many reached each condition and went where)."""
    context = api()
    redis, keys = context.redis, context.keys
    waiting = await _waiting(redis, keys.async_invocations)
    in_retry: dict[str, int] = {}
    for raw in await redis.zrange(keys.async_delays, 0, IN_RETRY_SHOWN - 1):
        try:
            name = ASYNC_COMMANDS.decode(raw).function.name
        except (msgspec.DecodeError, msgspec.ValidationError):
            continue
        in_retry[name] = in_retry.get(name, 0) + 1
    since = now_ms() - 60 * MINUTE_MS
    found = await newest(redis, keys, _settled, since_ms=since, limit=SCAN_MAX)
    ended: dict[str, dict[str, int]] = {}
    for _, record in found:
        assert isinstance(record, AsyncEventSettled)
        counts = ended.setdefault(record.function, {})
        counts[record.condition] = counts.get(record.condition, 0) + 1
        for kind, _arn in record.destinations:
            counts[kind] = counts.get(kind, 0) + 1
    return json_response({"waiting": waiting, "in_retry": in_retry, "ended": ended})


def _settled(record: AnyRecord) -> bool:
    return isinstance(record, AsyncEventSettled)


async def _waiting(redis: Redis, stream: str) -> int:
    """Entries of the async stream not yet read by its group, plus those being handled."""
    try:
        groups = await redis.xinfo_groups(stream)
    except Exception:  # no stream yet
        return 0
    for group in groups:
        if group.get("name") in (ASYNC_STREAM_GROUP, ASYNC_STREAM_GROUP.encode()):
            return int(group.get("lag") or 0) + int(group.get("pending") or 0)
    return 0


@blueprint.get("/_tarn/stack")
async def stack() -> Response:
    """The worker instances alive now, per role (health has each component's state)."""
    context = api()
    since = int(time.time() * 1000) - STALE_AFTER_MS
    members = await context.redis.zrangebyscore(context.keys.heartbeats, since, "+inf")
    instances: dict[str, list[str]] = {}
    for member in members:
        role, _, consumer = member.decode().partition(":")
        instances.setdefault(role, []).append(consumer)
    return json_response({"instances": instances, "settings": _shown_settings()})


def _shown_settings() -> dict[str, object]:
    settings = api().settings
    return {
        "executor": settings.executor,
        "region": settings.region,
        "invocation_records": settings.invocation_records,
        "async_retry_base_s": settings.async_retry_base_s,
    }


@blueprint.get("/_tarn/event-source-mappings/<uuid>/source")
async def mapping_source(uuid: str) -> Response:
    """How deep a mapping's source is: an SQS queue's visible and in-flight messages (a
    stream's iterator age is in its batches' records)."""
    context = api()
    mapping = await context.stores.event_source_mappings.get(uuid)
    if mapping is None:
        return json_response({"message": f"no event source mapping {uuid}"}, 404)
    body: dict[str, object] = {"service": mapping.source_service}
    if mapping.source_service != "sqs" or context.aws is None:
        return json_response(body)
    try:
        url = await queue_url(context.aws, mapping.event_source_arn)
        attributes = await context.aws.ok(
            "sqs",
            "AmazonSQS.GetQueueAttributes",
            {"QueueUrl": url, "AttributeNames": QUEUE_DEPTH},
        )
    except CompanionError as exc:
        body["error"] = f"the queue cannot be read: {exc}"
        return json_response(body)
    values = attributes.get("Attributes", {})
    body["visible"] = int(values.get(QUEUE_DEPTH[0], 0))
    body["in_flight"] = int(values.get(QUEUE_DEPTH[1], 0))
    return json_response(body)
