"""Invoke: run a function and answer exactly as AWS does.

https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
The API resolves the function, publishes InvokeFunction with a reply address, and turns
the pool worker's reply into the HTTP response. A function error is not an API error.
"""

from __future__ import annotations

import base64
import time
import uuid

import msgspec
from quart import Blueprint, Response, request

from bus.messages import (
    ASYNC_COMMANDS,
    InvocationCompleted,
    InvocationRejected,
    InvokeAsync,
)
from bus.quotas import SYNC_PAYLOAD_BYTES
from bus.records import LATEST, FunctionVersion, State
from bus.transport.delays import now_ms
from bus.transport.replies import REPLY_MARGIN_S
from bus.transport.streams import publish
from services.context import ApiContext, api
from services.errors import (
    InvalidRequestContentException,
    RequestTooLargeException,
    ResourceConflictException,
    ServiceException,
    constraint,
    error_for,
)
from services.functions.refs import FunctionRef, function_ref, resolve
from services.requests import TOO_DEEP, read_body
from services.responses import json_response

blueprint = Blueprint("invoke", __name__)

INVOCATION_TYPES = ("Event", "RequestResponse", "DryRun")


@blueprint.post("/2015-03-31/functions/<function_name>/invocations")
async def invoke(function_name: str) -> Response:
    context = api()
    invocation_type = invocation_type_of(INVOCATION_TYPES)
    is_event = invocation_type == "Event"
    limit = context.settings.async_max_payload_bytes if is_event else SYNC_PAYLOAD_BYTES
    payload = await read_payload(limit)
    record, invoked_arn = await resolve_target(context, function_ref(function_name))
    if invocation_type == "DryRun":
        return Response(b"", status=204)
    if is_event:
        request_id = await _enqueue(context, function_name, record, invoked_arn, payload)
        return Response(b"", status=202, headers={"X-Amzn-RequestId": request_id})
    return await _invoke_sync(context, record, invoked_arn, payload)


@blueprint.post("/2014-11-13/functions/<function_name>/invoke-async/")
@blueprint.post("/2014-11-13/functions/<function_name>/invoke-async")
async def invoke_async(function_name: str) -> Response:
    """The deprecated InvokeAsync: an Event invocation that answers `{"Status": 202}`."""
    context = api()
    payload = await read_payload(context.settings.async_max_payload_bytes, "InvokeAsync")
    record, invoked_arn = await resolve_target(context, function_ref(function_name))
    request_id = await _enqueue(context, function_name, record, invoked_arn, payload)
    response = json_response({"Status": 202}, 202)
    response.headers["X-Amzn-RequestId"] = request_id
    return response


async def _enqueue(
    context: ApiContext,
    function_name: str,
    record: FunctionVersion,
    invoked_arn: str,
    payload: bytes,
) -> str:
    """Put an Event invocation on the async stream; the caller's 202 waits for the XADD."""
    request_id = str(uuid.uuid4())
    command = InvokeAsync(
        request_id=request_id,
        function=record,
        payload=payload,
        invoked_arn=invoked_arn,
        qualifier=function_ref(function_name).qualifier or LATEST,
        received_ms=now_ms(),
        trace_id=trace_id(),
    )
    await publish(context.redis, context.keys.async_invocations, ASYNC_COMMANDS, command)
    return request_id


def invocation_type_of(allowed: tuple[str, ...]) -> str:
    """The request's X-Amz-Invocation-Type (RequestResponse by default), one of `allowed`."""
    invocation_type = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
    if invocation_type not in allowed:
        raise constraint(
            invocation_type,
            "invocationType",
            f"Member must satisfy enum value set: [{', '.join(allowed)}]",
        )
    return invocation_type


async def read_payload(limit: int, operation: str = "InvokeFunction") -> bytes:
    if (request.content_length or 0) > limit:
        raise _too_large(limit, operation)
    payload = await read_body()
    if len(payload) > limit:
        raise _too_large(limit, operation)
    if not payload.strip():
        return b"{}"
    try:
        msgspec.json.decode(payload)
    except msgspec.DecodeError as exc:
        raise InvalidRequestContentException(
            f"Could not parse request body into json: Could not parse payload into json: {exc}"
        ) from None
    except RecursionError:
        raise InvalidRequestContentException(TOO_DEEP) from None
    return payload


def _too_large(limit: int, operation: str) -> RequestTooLargeException:
    return RequestTooLargeException(
        f"Request must be smaller than {limit} bytes for the {operation} operation"
    )


async def resolve_target(context: ApiContext, ref: FunctionRef) -> tuple[FunctionVersion, str]:
    """The version to run (an alias picks one by weight) and the ARN the caller invoked."""
    # Invoke names $LATEST in its not-found error even when the caller named no version.
    found = await resolve(context, FunctionRef(ref.name, ref.qualifier or LATEST), routed=True)
    record = found.record
    if record.state != State.ACTIVE:
        raise ResourceConflictException(
            "The operation cannot be performed at this time. The function is currently in the "
            f"following state: {record.state}"
        )
    return record, found.arn if ref.qualifier else record.arn


async def _invoke_sync(
    context: ApiContext, record: FunctionVersion, invoked_arn: str, payload: bytes
) -> Response:
    request_id = str(uuid.uuid4())
    reply = await context.inbox.invoke(
        record,
        payload,
        request_id=request_id,
        invoked_arn=invoked_arn,
        client_context=request.headers.get("X-Amz-Client-Context"),
        log_tail=request.headers.get("X-Amz-Log-Type") == "Tail",
        trace_id=trace_id(),
    )
    match reply:
        case InvocationCompleted():
            return _completed(reply, request_id)
        case InvocationRejected():
            raise error_for(reply.error_type, reply.message, reply.reason)
        case None:
            raise ServiceException(
                f"No runtime environment answered within {record.timeout_s + REPLY_MARGIN_S} "
                "seconds; is the pool worker running? See `tarn up`'s log."
            )


def _completed(reply: InvocationCompleted, request_id: str) -> Response:
    response = Response(reply.payload, status=200, content_type="application/json")
    response.headers["X-Amz-Executed-Version"] = reply.executed_version
    response.headers["X-Amzn-RequestId"] = request_id
    if reply.function_error:
        response.headers["X-Amz-Function-Error"] = reply.function_error
    if reply.log_tail is not None:
        response.headers["X-Amz-Log-Result"] = base64.b64encode(reply.log_tail).decode()
    return response


def trace_id() -> str:
    """An X-Ray trace header: Root=1-<epoch seconds, hex>-<96 random bits>."""
    random = uuid.uuid4().hex
    return f"Root=1-{int(time.time()):08x}-{random[:24]};Parent={random[16:32]};Sampled=0"
