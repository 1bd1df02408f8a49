"""Where an Event invocation's outcome goes: OnSuccess / OnFailure destinations (SQS, Lambda,
SNS, EventBridge) with AWS's invocation record, and the function's DLQ (SQS or SNS).

https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import msgspec

from bus.aliases import version_to_invoke
from bus.arns import function_of, service_of
from bus.aws import Companion
from bus.invocation_records import add_record, settled_record
from bus.messages import ASYNC_COMMANDS, InvocationCompleted, InvocationRejected, InvokeAsync
from bus.records import LATEST, EventInvokeConfig
from bus.transport.delays import now_ms
from bus.transport.streams import publish
from workers.context import WorkerContext
from workers.deliveries import record_timestamp, send_to_target
from workers.invocations import Outcome

log = logging.getLogger("tarn.async")

# The DLQ's ErrorMessage attribute carries at most this much of the error (AWS: 1 KB).
DLQ_ERROR_MESSAGE_MAX = 1024


class Destinations:
    """Sends invocation records and dead letters; a failed send is logged, never retried."""

    def __init__(self, context: WorkerContext) -> None:
        self.settings = context.settings
        self.redis = context.redis
        self.keys = context.keys
        self.stores = context.stores
        self.companion = context.aws

    async def succeeded(
        self, event: InvokeAsync, config: EventInvokeConfig | None, reply: InvocationCompleted
    ) -> None:
        if config is not None and config.on_success:
            record = invocation_record(event, "Success", reply)
            await self._deliver(config.on_success, record, "Success", event)
        on_success = None if config is None else config.on_success
        await self._settled(event, "Success", [("OnSuccess", on_success)])

    async def failed(
        self, event: InvokeAsync, config: EventInvokeConfig | None, condition: str, reply: Outcome
    ) -> None:
        """OnFailure gets the record and the function's DLQ the event: either, both or none
        ("destinations in addition to or instead of a dead-letter queue")."""
        on_failure = None if config is None else config.on_failure
        if on_failure:
            record = invocation_record(event, condition, reply)
            await self._deliver(on_failure, record, "Failure", event)
        if event.function.dead_letter_target_arn:
            await self._dead_letter(event, reply)
        if not on_failure and not event.function.dead_letter_target_arn:
            log.warning("event %s dropped (%s): no destination", event.request_id, condition)
        dlq = event.function.dead_letter_target_arn
        await self._settled(event, condition, [("OnFailure", on_failure), ("DLQ", dlq)])

    async def _settled(
        self, event: InvokeAsync, condition: str, targets: list[tuple[str, str | None]]
    ) -> None:
        """The event's end in the invocation records (the console's timeline)."""
        sent = [(kind, arn) for kind, arn in targets if arn]
        record = settled_record(event, condition, sent)
        try:
            await add_record(self.redis, self.keys, self.settings.invocation_records, record)
        except Exception:
            log.warning("recording the end of %s failed", event.request_id, exc_info=True)

    async def _deliver(
        self, arn: str, record: dict[str, Any], kind: str, event: InvokeAsync
    ) -> None:
        body = msgspec.json.encode(record)
        try:
            match service_of(arn):
                case "sqs" | "sns":
                    await send_to_target(self._companion(), arn, body.decode())
                case "lambda":
                    await self._invoke_lambda(arn, body, event)
                case "events":
                    await self._put_event(arn, body.decode(), kind, record)
                case service:
                    log.warning("destination %s: Tarn cannot deliver to %s yet", arn, service)
        except Exception:
            log.exception("sending the record of %s to %s failed", event.request_id, arn)

    async def _dead_letter(self, event: InvokeAsync, reply: Outcome) -> None:
        arn = event.function.dead_letter_target_arn or ""
        attributes = {
            "RequestID": {"DataType": "String", "StringValue": event.request_id},
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
            "ErrorMessage": {"DataType": "String", "StringValue": _error_message(reply)},
        }
        try:
            await send_to_target(self._companion(), arn, event.payload.decode(), attributes)
        except Exception:
            log.exception("sending %s to its dead-letter queue %s failed", event.request_id, arn)

    async def _put_event(self, arn: str, detail: str, kind: str, record: dict[str, Any]) -> None:
        """One event on the bus `arn`, as AWS puts it: source "lambda", the record as detail."""
        entry = {
            "Source": "lambda",
            "DetailType": f"Lambda Function Invocation Result - {kind}",
            "Detail": detail,
            "EventBusName": arn,
            "Resources": [arn, record["requestContext"]["functionArn"]],
        }
        answer = await self._companion().ok("events", "AWSEvents.PutEvents", {"Entries": [entry]})
        if answer.get("FailedEntryCount"):
            raise RuntimeError(f"PutEvents refused the record: {answer.get('Entries')}")

    async def _invoke_lambda(self, arn: str, body: bytes, event: InvokeAsync) -> None:
        """An Event invocation of the destination function (a request of its own), as AWS
        makes one."""
        name, named_qualifier = function_of(arn)
        qualifier = named_qualifier or LATEST
        function = await version_to_invoke(self.stores, name, qualifier)
        if function is None:
            log.warning("destination function %s not found", arn)
            return
        command = InvokeAsync(
            request_id=str(uuid.uuid4()),
            function=function,
            payload=body,
            invoked_arn=arn,
            qualifier=qualifier,
            received_ms=now_ms(),
            trace_id=event.trace_id,
        )
        await publish(self.redis, self.keys.async_invocations, ASYNC_COMMANDS, command)

    def _companion(self) -> Companion:
        if self.companion is None:
            raise RuntimeError("no companion endpoint (TARN_AWS_ENDPOINT) to deliver to")
        return self.companion


def invocation_record(event: InvokeAsync, condition: str, reply: Outcome) -> dict[str, Any]:
    """AWS's invocation record for a destination. Its functionArn always has a qualifier
    ($LATEST when the caller named none); an event that never ran has no response."""
    response: dict[str, Any] = {"statusCode": 200, "executedVersion": event.function.version}
    if condition != "Success" and event.attempts:
        response["functionError"] = "Unhandled"
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": record_timestamp(),
        "requestContext": {
            "requestId": event.request_id,
            "functionArn": f"{event.function.arn}:{event.qualifier}",
            "condition": condition,
            "approximateInvokeCount": event.attempts,
        },
        "requestPayload": _json_or_text(event.payload),
        "responseContext": response,
    }
    if reply is not None:
        record["responsePayload"] = _response_payload(reply)
    return record


def _response_payload(reply: InvocationCompleted | InvocationRejected) -> Any:
    match reply:
        case InvocationCompleted():
            return _json_or_text(reply.payload)
        case InvocationRejected():
            return {"errorType": reply.error_type, "errorMessage": reply.message}


def _error_message(reply: Outcome) -> str:
    match reply:
        case InvocationCompleted():
            payload = _json_or_text(reply.payload)
            text = payload.get("errorMessage", "") if isinstance(payload, dict) else str(payload)
        case InvocationRejected():
            text = reply.message
        case None:
            text = "The invocation did not complete"
    return str(text)[:DLQ_ERROR_MESSAGE_MAX] or "Unhandled"


def _json_or_text(data: bytes) -> Any:
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError:
        return data.decode(errors="replace")
