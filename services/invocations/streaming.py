"""InvokeWithResponseStream: the function's output to the client as it is produced, in AWS's
event-stream encoding (PayloadChunk events, then InvokeComplete).
https://docs.aws.amazon.com/lambda/latest/api/API_InvokeWithResponseStream.html
https://docs.aws.amazon.com/AmazonS3/latest/API/RESTSelectObjectAppendix.html (the encoding)
"""

from __future__ import annotations

import base64
import struct
import uuid
import zlib
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import msgspec
from quart import Blueprint, Response, request

from bus.messages import (
    InvocationCompleted,
    InvocationRejected,
    InvokeFunction,
    Reply,
)
from bus.quotas import SYNC_PAYLOAD_BYTES
from bus.records import FunctionVersion
from bus.transport.replies import REPLY_MARGIN_S
from bus.transport.response_streams import Head, open_response_stream, read_response_stream
from services.context import ApiContext, api
from services.errors import ServiceException, error_for
from services.functions.refs import function_ref
from services.invocations.invoke import (
    invocation_type_of,
    read_payload,
    resolve_target,
    trace_id,
)

blueprint = Blueprint("streaming", __name__)

INVOCATION_TYPES = ("RequestResponse", "DryRun")
EVENT_STREAM = "application/vnd.amazon.eventstream"
StreamItem = Head | bytes | Reply | None


@blueprint.post("/2021-11-15/functions/<function_name>/response-streaming-invocations")
async def invoke_with_response_stream(function_name: str) -> Response:
    context = api()
    invocation_type = invocation_type_of(INVOCATION_TYPES)
    payload = await read_payload(SYNC_PAYLOAD_BYTES, "InvokeWithResponseStream")
    record, invoked_arn = await resolve_target(context, function_ref(function_name))
    if invocation_type == "DryRun":
        return Response(b"", status=204)
    request_id = str(uuid.uuid4())
    items = await start_streamed(
        context,
        record,
        invoked_arn,
        payload,
        request_id,
        client_context=request.headers.get("X-Amz-Client-Context"),
        log_tail=request.headers.get("X-Amz-Log-Type") == "Tail",
    )
    first = await first_item(items, record)
    response = Response(_events(first, items), status=200, content_type=EVENT_STREAM)
    response.headers["X-Amz-Executed-Version"] = record.version
    response.headers["X-Amzn-RequestId"] = request_id
    return response


async def start_streamed(
    context: ApiContext,
    record: FunctionVersion,
    invoked_arn: str,
    payload: bytes,
    request_id: str,
    *,
    client_context: str | None = None,
    log_tail: bool = False,
    trace: str | None = None,
) -> AsyncGenerator[StreamItem, None]:
    """Publish one streamed invocation; its response stream's items as they come."""
    key = context.keys.response_stream(request_id)
    timeout_s = record.timeout_s + REPLY_MARGIN_S
    await open_response_stream(context.redis, key, timeout_s)
    command = InvokeFunction(
        request_id=request_id,
        function=record,
        payload=payload,
        reply_to=key,
        invoked_arn=invoked_arn,
        client_context=client_context,
        log_tail=log_tail,
        trace_id=trace or trace_id(),
        stream=True,
    )
    refused = await context.inbox.limits.publish(command)
    if refused is not None:
        return _only(refused)
    return read_response_stream(context.redis, key, timeout_s)


async def _only(item: StreamItem) -> AsyncGenerator[StreamItem, None]:
    yield item


async def first_item(
    items: AsyncGenerator[StreamItem, None], record: FunctionVersion
) -> StreamItem:
    """The first item, before any byte goes out: a refusal is still an API error then."""
    first = await anext(items)
    match first:
        case InvocationRejected():
            await items.aclose()
            raise error_for(first.error_type, first.message, first.reason)
        case None:
            raise ServiceException(
                f"No runtime environment answered within {record.timeout_s + REPLY_MARGIN_S} "
                "seconds; is the pool worker running? See `tarn up`'s log."
            )
    return first


async def _events(
    first: StreamItem, items: AsyncGenerator[StreamItem, None]
) -> AsyncIterator[bytes]:
    item = first
    while True:
        match item:
            case bytes():
                yield event_message("PayloadChunk", item, "application/octet-stream")
            case InvocationCompleted():
                if item.payload and not item.function_error:
                    yield event_message("PayloadChunk", item.payload, "application/octet-stream")
                yield event_message("InvokeComplete", _complete(item), "application/json")
                return
            case InvocationRejected() | None:
                yield event_message("InvokeComplete", _failed(item), "application/json")
                return
        item = await anext(items)


def _complete(reply: InvocationCompleted) -> bytes:
    body: dict[str, Any] = {}
    if reply.function_error:
        error = _error_of(reply.payload)
        body["ErrorCode"] = str(error.get("errorType") or reply.function_error)
        body["ErrorDetails"] = str(error.get("errorMessage") or "")
    if reply.log_tail is not None:
        body["LogResult"] = base64.b64encode(reply.log_tail).decode()
    return msgspec.json.encode(body)


def _failed(reply: InvocationRejected | None) -> bytes:
    if reply is None:
        return b'{"ErrorCode":"ServiceException","ErrorDetails":"No reply from the pool"}'
    return msgspec.json.encode({"ErrorCode": reply.error_type, "ErrorDetails": reply.message})


def _error_of(payload: bytes) -> dict[str, Any]:
    try:
        error = msgspec.json.decode(payload)
    except msgspec.DecodeError:
        return {}
    return error if isinstance(error, dict) else {}


def event_message(event_type: str, payload: bytes, content_type: str) -> bytes:
    """One message of AWS's event-stream encoding: prelude (lengths and their CRC32), string
    headers, payload, and the whole message's CRC32."""
    headers = b"".join(
        _header(name, value)
        for name, value in (
            (":event-type", event_type),
            (":content-type", content_type),
            (":message-type", "event"),
        )
    )
    prelude = struct.pack(">II", 16 + len(headers) + len(payload), len(headers))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + headers + payload
    return message + struct.pack(">I", zlib.crc32(message))


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return (
        bytes([len(raw_name)]) + raw_name + b"\x07" + struct.pack(">H", len(raw_value)) + raw_value
    )
