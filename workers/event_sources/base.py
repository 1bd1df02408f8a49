"""What every event-source poller shares: its context, its shape, and invoking the mapping's
function with one batch as AWS does (synchronously, through the pool).

https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import anyio
import msgspec
from anyio.abc import TaskGroup
from redis.asyncio import Redis

from bus.aliases import version_to_invoke
from bus.aws import Companion, CompanionError
from bus.keys import Keys
from bus.messages import InvocationCompleted, InvocationRejected
from bus.records import EventSourceMapping
from bus.settings import Settings
from bus.stores import RecordMissing, Stores
from bus.transport.replies import ReplyInbox
from workers.invocations import Outcome

# LastProcessingResult as AWS words it.
# https://docs.aws.amazon.com/lambda/latest/api/API_EventSourceMappingConfiguration.html
PROCESSING_OK = "OK"
PROCESSING_FAILED = "PROBLEM: Function call failed"
# While a mapping's source cannot be read because it is gone (deleted, or not made yet); the
# mapping polls on and says NO_RECORDS again once the source is back.
SOURCE_PROBLEM = "PROBLEM: Lambda was unable to read from the event source"
NO_RECORDS = "No records processed"
USER_INITIATED = "USER_INITIATED"  # an SQS mapping's StateTransitionReason
USER_ACTION = "User action"  # a stream mapping's
SOURCE_GONE_CODES = frozenset(
    {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "ResourceNotFoundException"}
)
# A batch's event, {"Records": [...]}, without its records.
EVENT_ENVELOPE_BYTES = len(b'{"Records":[]}')


@dataclass(frozen=True, slots=True)
class PollerContext:
    """Everything a poller needs, built once per poller process and shared by its pollers."""

    settings: Settings
    redis: Redis
    keys: Keys
    stores: Stores
    companion: Companion
    inbox: ReplyInbox  # the process's reply inbox, which every poller invokes through
    # Tasks that may outlive the poller that started them: an SQS receive still in flight
    # when its poller stops finishes there and hands its messages back to the queue.
    detached: TaskGroup | None = None


class Poller(Protocol):
    """Polls one enabled mapping's source and invokes its function until cancelled.

    A poller is started for one configuration of its mapping; when the mapping changes, the
    owner cancels it and starts a new one. Cancellation may come at any await: whatever was
    not yet deleted or checkpointed is delivered again (at least once, as on AWS).
    """

    async def run(self) -> None: ...


@dataclass(frozen=True, slots=True)
class BatchResult:
    """How one invocation with a batch went."""

    outcome: Outcome
    failed_item_ids: list[str] | None = None  # batchItemFailures' itemIdentifiers, if reported
    malformed_report: bool = False  # ReportBatchItemFailures answer AWS would treat as a failure
    function_missing: bool = False  # the function or its qualifier is gone

    @property
    def succeeded(self) -> bool:
        """The function ran and returned without error (items may still have failed)."""
        return isinstance(self.outcome, InvocationCompleted) and not self.outcome.function_error

    @property
    def throttled(self) -> bool:
        return isinstance(self.outcome, InvocationRejected) and self.outcome.status == 429


async def invoke_batch(
    context: PollerContext,
    mapping: EventSourceMapping,
    event: dict[str, Any],
    last_record_ms: int = 0,
) -> BatchResult:
    """Invoke the mapping's function with `event` ({"Records": [...]}) and read its answer;
    `last_record_ms`: when a stream's last record in it was written (its IteratorAge)."""
    function = await version_to_invoke(context.stores, mapping.function_name, mapping.qualifier)
    if function is None:
        return BatchResult(None, function_missing=True)
    outcome = await context.inbox.invoke(
        function,
        msgspec.json.encode(event),
        request_id=str(uuid.uuid4()),
        invoked_arn=mapping.function_arn,
        trigger=f"esm:{mapping.uuid}",
        queued_ms=last_record_ms,
    )
    result = BatchResult(outcome)
    if result.succeeded and mapping.reports_item_failures:
        assert isinstance(outcome, InvocationCompleted)
        return _with_item_failures(outcome)
    return result


def _with_item_failures(outcome: InvocationCompleted) -> BatchResult:
    """Read `{"batchItemFailures": [{"itemIdentifier": ...}]}`. AWS: an empty or null answer
    means every item succeeded; a malformed one, or an empty/missing identifier, fails the
    whole batch. https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
    """
    try:
        answer = msgspec.json.decode(outcome.payload) if outcome.payload.strip() else None
    except msgspec.DecodeError:
        return BatchResult(outcome, malformed_report=True)
    if answer is None or answer == {} or not isinstance(answer, dict):
        return BatchResult(outcome, failed_item_ids=[])
    failures = answer.get("batchItemFailures")
    if failures is None:
        return BatchResult(outcome, failed_item_ids=[])
    if not isinstance(failures, list):
        return BatchResult(outcome, malformed_report=True)
    ids: list[str] = []
    for failure in failures:
        item = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(item, str) or not item:
            return BatchResult(outcome, malformed_report=True)
        ids.append(item)
    return BatchResult(outcome, failed_item_ids=ids)


class ProcessingResults:
    """Keeps one mapping's LastProcessingResult: stored when it changes, not once a batch."""

    def __init__(self, context: PollerContext, mapping: EventSourceMapping) -> None:
        self.mappings = context.stores.event_source_mappings
        self.uuid = mapping.uuid
        self.last = mapping.last_processing_result

    async def note(self, result: BatchResult) -> None:
        text = PROCESSING_OK if result.succeeded else PROCESSING_FAILED
        if text == self.last:
            return
        self.last = text

        def change(stored: EventSourceMapping) -> EventSourceMapping:
            return msgspec.structs.replace(stored, last_processing_result=text)

        try:
            await self.mappings.update(self.uuid, change)
        except RecordMissing:
            pass  # deleted meanwhile; its poller is about to stop


class SourceState:
    """Says in the mapping's LastProcessingResult and StateTransitionReason (what an SQS
    mapping shows) that its source is gone, and that it is back; stored when that changes."""

    def __init__(self, context: PollerContext, mapping: EventSourceMapping) -> None:
        self.mappings = context.stores.event_source_mappings
        self.uuid = mapping.uuid
        self.gone: bool | None = None  # unknown: the record read at start may be old
        reason = mapping.state_transition_reason
        default = USER_INITIATED if mapping.source_service == "sqs" else USER_ACTION
        self.reason = default if reason.startswith(SOURCE_PROBLEM) else reason

    async def failed(self, exc: Exception) -> None:
        if self.gone is True or not isinstance(exc, CompanionError):
            return
        if exc.code not in SOURCE_GONE_CODES:
            return
        self.gone = True
        await self._set(f"{SOURCE_PROBLEM}: {exc.message or exc.code}")

    async def readable(self) -> None:
        if self.gone is not False:
            self.gone = False
            await self._set(NO_RECORDS)

    async def _set(self, text: str) -> None:
        def change(stored: EventSourceMapping) -> EventSourceMapping:
            if text != NO_RECORDS:
                return msgspec.structs.replace(
                    stored, last_processing_result=text, state_transition_reason=text
                )
            if not stored.last_processing_result.startswith(SOURCE_PROBLEM):
                return stored  # a batch said how it went meanwhile
            return msgspec.structs.replace(
                stored, last_processing_result=text, state_transition_reason=self.reason
            )

        try:
            await self.mappings.update(self.uuid, change)
        except RecordMissing:
            pass


class Backoff:
    """Delays for a polling loop: growing from `first_s` to `max_s`, reset on success."""

    def __init__(self, first_s: float = 0.1, max_s: float = 5.0) -> None:
        self.first_s = first_s
        self.max_s = max_s
        self.next_s = first_s

    def reset(self) -> None:
        self.next_s = self.first_s

    async def sleep(self, until: anyio.Event | None = None) -> None:
        """Wait the next delay, or less if `until` is set meanwhile."""
        delay_s, self.next_s = self.next_s, min(self.next_s * 2, self.max_s)
        if until is None:
            await anyio.sleep(delay_s)
            return
        with anyio.move_on_after(delay_s):
            await until.wait()
