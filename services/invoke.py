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
    INVOCATION_COMMANDS,
    InvocationCompleted,
    InvocationRejected,
    InvokeFunction,
)
from bus.records import LATEST, FunctionVersion
from bus.streams import publish
from services.arns import FunctionRef
from services.context import ApiContext, api
from services.errors import (
    InvalidParameterValueException,
    InvalidRequestContentException,
    RequestTooLargeException,
    ResourceConflictException,
    ServiceException,
    constraint,
    error_for,
)
from services.function_refs import function_ref, resolve
from services.function_requests import read_body

blueprint = Blueprint("invoke", __name__)

MAX_SYNC_PAYLOAD_BYTES = 6_291_456
INVOCATION_TYPES = ("Event", "RequestResponse", "DryRun")
# Beyond the function's own timeout: room for a cold start before the handler runs.
REPLY_MARGIN_S = 60


@blueprint.post("/2015-03-31/functions/<function_name>/invocations")
async def invoke(function_name: str) -> Response:
    context = api()
    invocation_type = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
    if invocation_type not in INVOCATION_TYPES:
        raise constraint(
            invocation_type,
            "invocationType",
            "Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
        )
    payload = await _payload()
    record, invoked_arn = await _resolve(context, function_name)
    if invocation_type == "DryRun":
        return Response(b"", status=204)
    if invocation_type == "Event":
        raise InvalidParameterValueException(
            "InvocationType Event is not supported by this Tarn yet; use RequestResponse."
        )
    return await _invoke_sync(context, record, invoked_arn, payload)


async def _payload() -> bytes:
    if (request.content_length or 0) > MAX_SYNC_PAYLOAD_BYTES:
        raise _too_large()
    payload = await read_body()
    if len(payload) > MAX_SYNC_PAYLOAD_BYTES:
        raise _too_large()
    if not payload.strip():
        return b"{}"
    try:
        msgspec.json.decode(payload)
    except msgspec.DecodeError as exc:
        raise InvalidRequestContentException(
            f"Could not parse request body into json: Could not parse payload into json: {exc}"
        ) from None
    return payload


def _too_large() -> RequestTooLargeException:
    return RequestTooLargeException(
        f"Request must be smaller than {MAX_SYNC_PAYLOAD_BYTES} bytes for the InvokeFunction "
        "operation"
    )


async def _resolve(context: ApiContext, function_name: str) -> tuple[FunctionVersion, str]:
    """The version to run (an alias picks one by weight) and the ARN the caller invoked."""
    ref = function_ref(function_name)
    # Invoke names $LATEST in its not-found error even when the caller named no version.
    found = await resolve(context, FunctionRef(ref.name, ref.qualifier or LATEST), routed=True)
    record = found.record
    if record.state != "Active":
        raise ResourceConflictException(
            "The operation cannot be performed at this time. The function is currently in the "
            f"following state: {record.state}"
        )
    return record, found.arn if ref.qualifier else record.arn


async def _invoke_sync(
    context: ApiContext, record: FunctionVersion, invoked_arn: str, payload: bytes
) -> Response:
    request_id = str(uuid.uuid4())
    command = InvokeFunction(
        request_id=request_id,
        function=record,
        payload=payload,
        reply_to=context.inbox.key,
        invoked_arn=invoked_arn,
        client_context=request.headers.get("X-Amz-Client-Context"),
        log_tail=request.headers.get("X-Amz-Log-Type") == "Tail",
        trace_id=_trace_id(),
    )
    context.inbox.expect(request_id)
    try:
        await publish(context.redis, context.keys.invocations, INVOCATION_COMMANDS, command)
    except BaseException:
        context.inbox.forget(request_id)
        raise
    reply = await context.inbox.wait(request_id, record.timeout_s + REPLY_MARGIN_S)
    match reply:
        case InvocationCompleted():
            return _completed(reply, request_id)
        case InvocationRejected():
            raise error_for(reply.error_type, reply.message)
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


def _trace_id() -> str:
    """An X-Ray trace header: Root=1-<epoch seconds, hex>-<96 random bits>."""
    random = uuid.uuid4().hex
    return f"Root=1-{int(time.time()):08x}-{random[:24]};Parent={random[16:32]};Sampled=0"
