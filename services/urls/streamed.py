"""Function URLs with InvokeMode RESPONSE_STREAM: the function's output goes to the client as
it comes, with the status, headers and cookies of HttpResponseStream's prelude (a JSON object,
then 8 zero bytes, under the content type below) when the function sent one.
https://docs.aws.amazon.com/lambda/latest/dg/response-streaming-tutorial.html
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator

import msgspec

from bus.messages import Reply
from bus.transport.response_streams import Head
from services.invocations.streaming import StreamItem
from services.urls.events import BadResponse, HttpResult

HTTP_INTEGRATION_TYPE = "application/vnd.awslambda.http-integration-response"
PRELUDE_DELIMITER = b"\0" * 8
MAX_PRELUDE_BYTES = 64 * 1024


async def streamed_result(
    first: StreamItem, items: AsyncGenerator[StreamItem, None]
) -> HttpResult | Reply | None:
    """The streaming HTTP response, or the reply when the function streamed nothing (a
    buffered result, or an error before any byte): that one is mapped as in BUFFERED mode."""
    if not isinstance(first, Head):
        return (
            first
            if not isinstance(first, bytes)
            else _plain("application/octet-stream", first, items)
        )
    if first.content_type != HTTP_INTEGRATION_TYPE:
        return _plain(first.content_type, b"", items)
    head = b""
    while PRELUDE_DELIMITER not in head:
        item = await anext(items)
        if not isinstance(item, bytes) or len(head) > MAX_PRELUDE_BYTES:
            raise BadResponse("the stream ended before its prelude did")
        head += item
    prelude, _, rest = head.partition(PRELUDE_DELIMITER)
    result = _from_prelude(prelude)
    result.chunks = _bytes(rest, items)
    return result


def _plain(content_type: str, start: bytes, items: AsyncGenerator[StreamItem, None]) -> HttpResult:
    return HttpResult(200, [("content-type", content_type)], chunks=_bytes(start, items))


def _from_prelude(prelude: bytes) -> HttpResult:
    try:
        value = msgspec.json.decode(prelude) if prelude.strip() else {}
    except msgspec.DecodeError:
        raise BadResponse("the prelude is not JSON") from None
    if not isinstance(value, dict):
        raise BadResponse("the prelude is not an object")
    try:
        status = int(value.get("statusCode", 200))
    except (TypeError, ValueError):
        raise BadResponse("statusCode is not a number") from None
    headers = [(str(k).lower(), str(v)) for k, v in (value.get("headers") or {}).items()]
    if not any(name == "content-type" for name, _ in headers):
        headers.append(("content-type", "application/octet-stream"))
    headers += [("set-cookie", str(cookie)) for cookie in value.get("cookies") or ()]
    return HttpResult(status, headers)


async def _bytes(start: bytes, items: AsyncGenerator[StreamItem, None]) -> AsyncIterator[bytes]:
    """The body as it comes; a failure mid-stream just ends it, as on AWS."""
    try:
        if start:
            yield start
        async for item in items:
            if not isinstance(item, bytes):
                return
            yield item
    finally:
        await items.aclose()
