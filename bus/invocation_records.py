"""Invocation records: what each invocation came to, in one capped Redis stream.

The pool adds one `InvocationRecord` per invocation it answers (in the same round trip as its
reply); the async worker adds one `AsyncEventSettled` when an Event invocation reaches its end.
The console, `GET /_tarn/invocations`, `tarn lambda history` and the CloudWatch metrics read
them. Durations, init and memory come from the invocation's REPORT line, as AWS logs it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

import msgspec
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from bus.keys import Keys
from bus.messages import (
    Codec,
    InvocationCompleted,
    InvocationRejected,
    InvokeAsync,
    InvokeFunction,
    Reply,
)
from bus.transport.streams import FIELD

Outcome = Literal["success", "error", "timeout", "throttle", "rejected"]
# A record keeps at most this much of its invocation's log (its end: the REPORT line).
LOG_BYTES = 4096
# A function error's type is read from an error payload no larger than this.
ERROR_PAYLOAD_BYTES = 65_536
# One read of the stream takes this many entries; a query reads at most SCAN_MAX of them.
PAGE = 500
SCAN_MAX = 20_000


class Record(msgspec.Struct, frozen=True, tag=True, kw_only=True):
    """Base of the entries of the records stream."""


class InvocationRecord(Record, frozen=True):
    """One invocation as the pool answered it.

    `trigger`: "api" (Invoke), "url", "async:<attempt>" or "esm:<mapping UUID>".
    `qualifier`: the alias or version the caller named ("" for none).
    """

    request_id: str
    function: str
    version: str
    start_ms: int
    end_ms: int
    qualifier: str = ""
    trigger: str = "api"
    duration_ms: float = 0.0
    init_ms: float | None = None
    billed_ms: int = 0
    memory_mb: int = 0
    max_memory_mb: int = 0
    outcome: Outcome = "success"
    error_type: str | None = None
    payload_bytes: int = 0
    response_bytes: int = 0
    log: str = ""
    queued_ms: int | None = None  # an Event's, a stream batch's last record's: when queued


class AsyncEventSettled(Record, frozen=True):
    """An Event invocation's end: `condition` Success, RetriesExhausted or EventAgeExceeded;
    `destinations` where it went (OnSuccess, OnFailure, DLQ, each with its target ARN)."""

    request_id: str
    function: str
    qualifier: str
    at_ms: int
    received_ms: int
    attempts: int
    condition: str
    destinations: list[tuple[str, str]] = []


AnyRecord = InvocationRecord | AsyncEventSettled
RECORDS: Codec[AnyRecord] = Codec(AnyRecord)  # type: ignore[arg-type]


def now_ms() -> int:
    return int(time.time() * 1000)


class InvocationRecorder:
    """The pool's side: builds each invocation's record and queues its XADD on a pipeline."""

    def __init__(self, keys: Keys, maxlen: int) -> None:
        self.key = keys.invocation_records
        self.maxlen = maxlen
        self._logs: dict[str, bytes] = {}  # request id -> log tail, until the reply goes

    def ran(self, request_id: str, log_tail: bytes) -> None:
        """Keep the invocation's log until its reply is sent."""
        if self.maxlen:
            self._logs[request_id] = log_tail

    def add(self, pipe: Pipeline, command: InvokeFunction, reply: Reply) -> None:
        """Queue the record of `command`, answered with `reply`, on `pipe`."""
        tail = self._logs.pop(command.request_id, b"")
        if not self.maxlen:
            return
        record = invocation_record(command, reply, tail, now_ms())
        pipe.xadd(self.key, {FIELD: RECORDS.encode(record)}, maxlen=self.maxlen, approximate=True)


def invocation_record(
    command: InvokeFunction, reply: Reply, tail: bytes, end_ms: int
) -> InvocationRecord:
    function = command.function
    report = parse_report(tail)
    duration_ms = float(report.get("Duration", 0.0))
    init_ms = report.get("Init Duration")
    outcome, error_type = _outcome(reply)
    return InvocationRecord(
        request_id=command.request_id,
        function=function.name,
        version=function.version,
        qualifier=_qualifier(command.invoked_arn),
        trigger=command.trigger,
        start_ms=end_ms - round(duration_ms + (init_ms or 0.0)),
        end_ms=end_ms,
        duration_ms=duration_ms,
        init_ms=init_ms,
        billed_ms=int(report.get("Billed Duration", 0)),
        memory_mb=function.memory_mb,
        max_memory_mb=int(report.get("Max Memory Used", 0)),
        outcome=outcome,
        error_type=error_type,
        payload_bytes=len(command.payload),
        response_bytes=len(reply.payload) if isinstance(reply, InvocationCompleted) else 0,
        log=tail[-LOG_BYTES:].decode(errors="replace"),
        queued_ms=command.queued_ms or None,
    )


def _outcome(reply: Reply) -> tuple[Outcome, str | None]:
    match reply:
        case InvocationRejected(status=429):
            return "throttle", reply.reason or reply.error_type
        case InvocationRejected():
            return "rejected", reply.error_type
        case InvocationCompleted(function_error=None):
            return "success", None
        case InvocationCompleted():
            error_type = _error_type(reply.payload)
            return ("timeout" if error_type == "Sandbox.Timedout" else "error"), error_type


def _error_type(payload: bytes) -> str:
    if len(payload) <= ERROR_PAYLOAD_BYTES:
        try:
            body = msgspec.json.decode(payload)
        except msgspec.DecodeError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("errorType"), str):
            return str(body["errorType"])
    return "Unhandled"


def _qualifier(invoked_arn: str) -> str:
    """arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]"""
    parts = invoked_arn.split(":")
    return parts[7] if len(parts) > 7 else ""


def parse_report(log: bytes) -> dict[str, float]:
    """The numbers of the last REPORT line in `log` ("Duration" -> ms, "Max Memory Used" ->
    MB, ...); empty without one."""
    at = log.rfind(b"REPORT RequestId:")
    if at < 0:
        return {}
    line = log[at:].split(b"\n", 1)[0].decode(errors="replace")
    numbers: dict[str, float] = {}
    for field in line.split("\t")[1:]:
        name, _, value = field.partition(": ")
        try:
            numbers[name] = float(value.split(" ", 1)[0])
        except ValueError:
            continue
    return numbers


def settled_record(
    event: InvokeAsync, condition: str, destinations: list[tuple[str, str]]
) -> AsyncEventSettled:
    return AsyncEventSettled(
        request_id=event.request_id,
        function=event.function.name,
        qualifier=event.qualifier,
        at_ms=now_ms(),
        received_ms=event.received_ms,
        attempts=event.attempts,
        condition=condition,
        destinations=destinations,
    )


async def add_record(redis: Redis, keys: Keys, maxlen: int, record: AnyRecord) -> None:
    """One XADD of `record` (nothing when records are off: `maxlen` 0)."""
    if maxlen:
        fields = {FIELD: RECORDS.encode(record)}
        await redis.xadd(keys.invocation_records, fields, maxlen=maxlen, approximate=True)


Entry = tuple[str, AnyRecord]  # (stream entry id, record)


def decode_entries(entries: list[tuple[bytes, dict[bytes, bytes]]]) -> list[Entry]:
    """Stream entries as records; an entry of another shape is skipped."""
    decoded: list[Entry] = []
    for entry_id, fields in entries:
        try:
            decoded.append((entry_id.decode(), RECORDS.decode(fields[FIELD])))
        except (KeyError, msgspec.DecodeError, msgspec.ValidationError):
            continue
    return decoded


async def newest(
    redis: Redis,
    keys: Keys,
    wanted: Callable[[AnyRecord], bool],
    *,
    since_ms: int = 0,
    until_id: str = "+",
    limit: int = 100,
) -> list[Entry]:
    """The newest records (newest first) that `wanted` keeps, from `since_ms` on, older than
    `until_id`; at most `limit`, reading at most SCAN_MAX entries."""
    found: list[Entry] = []
    upper, read = until_id, 0
    while len(found) < limit and read < SCAN_MAX:
        entries = await redis.xrevrange(
            keys.invocation_records, max=upper, min=str(since_ms), count=PAGE
        )
        if not entries:
            break
        read += len(entries)
        found += [entry for entry in decode_entries(entries) if wanted(entry[1])]
        upper = "(" + entries[-1][0].decode()
        if len(entries) < PAGE:
            break
    return found[:limit]


def matches(
    function: str = "", outcome: str = "", trigger: str = "", request_id: str = ""
) -> Callable[[AnyRecord], bool]:
    """A filter on records: empty arguments keep everything; `trigger` "async" keeps every
    attempt ("async:1", "async:2", ...) and the event's end."""

    def wanted(record: AnyRecord) -> bool:
        if function and record.function != function:
            return False
        if request_id and record.request_id != request_id:
            return False
        if isinstance(record, AsyncEventSettled):
            return not outcome and trigger in ("", "async")
        if outcome and record.outcome != outcome:
            return False
        return not trigger or record.trigger == trigger or record.trigger.startswith(trigger + ":")

    return wanted


def to_json(entry: Entry) -> dict[str, object]:
    """One record as the JSON API shows it: its fields, its kind and its stream id."""
    entry_id, record = entry
    body = msgspec.to_builtins(record)
    body["kind"] = body.pop("type")
    body["id"] = entry_id
    return dict(body)


# How AWS/Lambda's metrics count an outcome: an invocation that ran (with or without a
# function error) counts in Invocations; a throttled one only in Throttles.
# https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
RAN: frozenset[str] = frozenset({"success", "error", "timeout"})
FAILED: frozenset[str] = frozenset({"error", "timeout"})
