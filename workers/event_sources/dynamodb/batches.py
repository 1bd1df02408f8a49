"""Delivering one batch of stream records as Lambda does: retries, BisectBatchOnFunctionError,
partial batch responses, MaximumRecordAgeInSeconds, and the OnFailure destination with AWS's
DDBStreamBatchInfo record.

https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html
https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html
"""

from __future__ import annotations

import datetime
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import anyio
import msgspec

from bus.messages import InvocationCompleted, InvocationRejected
from bus.records import LATEST, EventSourceMapping
from workers.deliveries import record_timestamp, send_to_target
from workers.event_sources.base import (
    BatchResult,
    PollerContext,
    ProcessingResults,
    invoke_batch,
)
from workers.event_sources.dynamodb.streams import Change
from workers.invocations import Outcome

log = logging.getLogger("tarn.event_sources")

# Records leave a DynamoDB stream after 24 hours, so that is where "-1, until the record
# expires" ends. https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html
STREAM_RETENTION_S = 86_400
# AWS documents no delay between retries of a failed batch; ours double from half a second.
# Bisected halves go at once (splitting is not a retry).
RETRY_FIRST_DELAY_S = 0.5
RETRY_MAX_DELAY_S = 10.0
RECORD_VERSION = "1.0"

# Records up to this sequence number are done with (delivered, discarded or skipped).
Checkpoint = Callable[[str], Awaitable[None]]


@dataclass
class Part:
    """Records of one batch still to deliver, with their history."""

    changes: list[Change]
    retries: int = 0  # retries spent on these records (bisecting spends none)
    invocations: int = 0  # invocations these records were in
    waits: int = 0  # attempts in a row Lambda could not invoke the function (throttled, ...)
    last: Outcome = field(default=None)

    def split(self, at: int) -> tuple[Part, Part]:
        """Both sides keep the history: the records in them have been through it."""
        return replace(self, changes=self.changes[:at]), replace(self, changes=self.changes[at:])


class BatchDelivery:
    """Delivers the batches of one shard, strictly in order, checkpointing as records finish."""

    def __init__(
        self,
        context: PollerContext,
        mapping: EventSourceMapping,
        shard_id: str,
        checkpoint: Checkpoint,
    ) -> None:
        self.context = context
        self.mapping = mapping
        self.shard_id = shard_id
        self.checkpoint = checkpoint
        self.results = ProcessingResults(context, mapping)

    async def deliver(self, changes: list[Change]) -> None:
        """Until every record has succeeded or been discarded (to OnFailure, if any)."""
        parts = [Part(changes)]
        while parts:
            parts[:1] = await self._attempt(parts[0])

    async def _attempt(self, part: Part) -> list[Part]:
        """Invoke once with `part`; what is still to deliver of it afterwards, in order."""
        part = await self._without_expired(part)
        if not part.changes:
            return []
        written_ms = int(part.changes[-1].created_s * 1000)
        event = {"Records": _records(part)}
        result = await invoke_batch(self.context, self.mapping, event, written_ms)
        part.last = result.outcome
        await self.results.note(result)
        if not isinstance(result.outcome, InvocationCompleted):
            return await self._wait_to_invoke(part)  # never ran: not a retry, only age ends it
        part.invocations += 1
        part.waits = 0
        failed_at = failure_index(part.changes, result)
        if failed_at is None:
            await self.checkpoint(part.changes[-1].sequence_number)
            return []
        if failed_at > 0:  # AWS checkpoints before the lowest failed sequence number
            done, rest = part.split(failed_at)
            await self.checkpoint(done.changes[-1].sequence_number)
            if self.mapping.bisect_batch_on_function_error:
                return [rest]  # bisected at the failed record: splitting is not a retry
            return await self._retry(rest)
        if self.mapping.bisect_batch_on_function_error and len(part.changes) > 1:
            return list(part.split(len(part.changes) // 2))
        return await self._retry(part)

    async def _retry(self, part: Part) -> list[Part]:
        part.retries += 1
        limit = _setting(self.mapping.maximum_retry_attempts)
        if limit >= 0 and part.retries > limit:
            await self._discard(part, "RetryAttemptsExhausted")
            return []
        await anyio.sleep(_backoff_s(part.retries))
        return [part]

    async def _wait_to_invoke(self, part: Part) -> list[Part]:
        part.waits += 1
        log.info("mapping %s: could not invoke (%r); waiting", self.mapping.uuid, part.last)
        await anyio.sleep(_backoff_s(part.waits))
        return [part]

    async def _without_expired(self, part: Part) -> Part:
        """Discard the records older than the mapping's maximum age (they lead: shards are
        in order); the rest of the part."""
        age_limit_s = _setting(self.mapping.maximum_record_age_s)
        limit_s = STREAM_RETENTION_S if age_limit_s < 0 else min(age_limit_s, STREAM_RETENTION_S)
        now = time.time()
        expired = 0
        while expired < len(part.changes) and now - part.changes[expired].created_s > limit_s:
            expired += 1
        if expired == 0:
            return part
        old, rest = part.split(expired)
        await self._discard(old, "RecordAgeExceeded")
        return rest

    async def _discard(self, part: Part, condition: str) -> None:
        """Send AWS's record of the discarded records to OnFailure, then move past them."""
        destination = self.mapping.on_failure
        first, last = part.changes[0].sequence_number, part.changes[-1].sequence_number
        log.warning("mapping %s: %s; discarding %s..%s", self.mapping.uuid, condition, first, last)
        if destination:
            record = failure_record(self.mapping, self.shard_id, part, condition)
            await self._send(destination, msgspec.json.encode(record).decode())
        await self.checkpoint(last)

    async def _send(self, destination: str, body: str) -> None:
        try:
            await send_to_target(self.context.companion, destination, body)
        except Exception:  # the record is lost, as a DLQ message would be; the shard goes on
            log.exception("mapping %s: OnFailure to %s failed", self.mapping.uuid, destination)


def failure_index(changes: list[Change], result: BatchResult) -> int | None:
    """None when the whole batch succeeded; else the index of the first record to retry
    from: 0 for a function error or an answer AWS reads as a whole-batch failure."""
    if not result.succeeded or result.malformed_report:
        return 0
    if not result.failed_item_ids:
        return None
    positions = {change.sequence_number: index for index, change in enumerate(changes)}
    indexes = [positions.get(item) for item in result.failed_item_ids]
    found = [index for index in indexes if index is not None]
    # An identifier that names no record of the batch cannot be checkpointed before.
    return 0 if len(found) < len(indexes) else min(found)


def failure_record(
    mapping: EventSourceMapping, shard_id: str, part: Part, condition: str
) -> dict[str, Any]:
    """AWS's invocation record for discarded DynamoDB Streams records."""
    first, last = part.changes[0], part.changes[-1]
    outcome = part.last
    request_id = outcome.request_id if outcome is not None else str(uuid.uuid4())
    return {
        "requestContext": {
            "requestId": request_id,
            "functionArn": mapping.function_arn,
            "condition": condition,
            "approximateInvokeCount": part.invocations,
        },
        "responseContext": _response_context(mapping, outcome),
        "version": RECORD_VERSION,
        "timestamp": record_timestamp(),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": first.sequence_number,
            "endSequenceNumber": last.sequence_number,
            "approximateArrivalOfFirstRecord": _arrival(first.created_s),
            "approximateArrivalOfLastRecord": _arrival(last.created_s),
            "batchSize": len(part.changes),
            "streamArn": mapping.event_source_arn,
        },
    }


def _response_context(mapping: EventSourceMapping, outcome: Outcome) -> dict[str, Any]:
    match outcome:
        case InvocationCompleted():
            context: dict[str, Any] = {
                "statusCode": 200,
                "executedVersion": outcome.executed_version,
            }
            if outcome.function_error:
                context["functionError"] = outcome.function_error
            return context
        case InvocationRejected():
            return {"statusCode": outcome.status, "executedVersion": mapping.qualifier or LATEST}
        case None:  # the records aged out before the function ever ran
            return {"statusCode": 200, "executedVersion": mapping.qualifier or LATEST}


def _records(part: Part) -> list[dict[str, Any]]:
    return [change.record for change in part.changes]


def _setting(value: int | None) -> int:
    """MaximumRetryAttempts and MaximumRecordAgeInSeconds: absent means -1 (infinite)."""
    return -1 if value is None else value


def _backoff_s(attempt: int) -> float:
    return float(min(RETRY_FIRST_DELAY_S * 2 ** min(max(attempt - 1, 0), 16), RETRY_MAX_DELAY_S))


def _arrival(epoch_s: float) -> str:
    """AWS writes the arrivals to the second: "2019-11-14T00:13:19Z"."""
    moment = datetime.datetime.fromtimestamp(epoch_s, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
