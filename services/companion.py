"""The companion AWS endpoint (moto server, or one the user names): requests for services other
than Lambda are forwarded to it unchanged and its answers streamed back; Tarn's own reads of
it (health, S3 objects for CreateFunction) go through the same client.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ElementTree
from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, Scope
from quart import current_app

# Meaningful for one connection only (RFC 9110 7.6.1); `expect` too: Hypercorn has already
# answered 100-continue to the client, and the body follows at once.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"expect",
    }
)
# SQS long polls wait up to 20 s; DynamoDB and S3 transfers can take long on a slow disk.
FORWARD_TIMEOUT = httpx.Timeout(300.0, connect=5.0)
PING_TIMEOUT_S = 1.0
PING_CACHE_S = 1.0  # health is polled often; the companion answers for itself once a second
# GetObject of our own needs a credential scope naming S3 (moto and LocalStack route by it);
# neither checks the signature.
S3_HEADERS = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/s3/aws4_request, "
    "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=0",
    "X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD",
    "X-Amz-Date": "20240101T000000Z",
}


class CompanionError(Exception):
    """The companion refused or did not answer a request of Tarn's own: an S3 error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Companion:
    """An HTTP client of the companion endpoint, and the ASGI app that forwards to it."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.base = httpx.URL(self.url)
        self.client = httpx.AsyncClient(
            timeout=FORWARD_TIMEOUT,
            # Loopback or the user's own endpoint: never through an HTTP(S)_PROXY.
            trust_env=False,
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
        )
        self._answered_at = -PING_CACHE_S

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        assert scope["type"] == "http"
        headers = [(name, value) for name, value in scope["headers"] if name not in HOP_BY_HOP]
        has_body = any(
            name == b"transfer-encoding" or (name == b"content-length" and value != b"0")
            for name, value in scope["headers"]
        )
        target = scope.get("raw_path") or scope["path"].encode()
        if scope["query_string"]:
            target += b"?" + scope["query_string"]
        request = self.client.build_request(
            scope["method"],
            self.base.copy_with(raw_path=target),
            headers=headers,  # Host included: answers name Tarn's port (SQS QueueUrl, ...)
            content=_request_body(receive) if has_body else None,
        )
        try:
            response = await self.client.send(request, stream=True)
        except httpx.HTTPError as exc:
            await _unreachable(send, f"{self.url} did not answer: {exc!r}")
            return
        try:
            await _stream_response(response, send)
        finally:
            await response.aclose()

    async def ready(self) -> bool:
        """Whether the companion answers HTTP at all (any status). An answer holds for a second;
        a failure is not kept, so that `tarn up` sees the companion ready as soon as it is."""
        if time.monotonic() - self._answered_at < PING_CACHE_S:
            return True
        try:
            await self.client.get(self.url + "/", timeout=PING_TIMEOUT_S)
        except httpx.HTTPError:
            return False
        self._answered_at = time.monotonic()
        return True

    async def get_object(self, bucket: str, key: str, version: str | None, max_bytes: int) -> bytes:
        """S3 GetObject, path-style; CompanionError with S3's error code when it fails."""
        path = f"{self.url}/{quote(bucket, safe='')}/{quote(key, safe='/~')}"
        params = {"versionId": version} if version else None
        try:
            async with self.client.stream("GET", path, params=params, headers=S3_HEADERS) as got:
                if got.status_code != 200:
                    raise _s3_error(got.status_code, await got.aread())
                if _length(got) > max_bytes:
                    raise CompanionError("EntityTooLarge", f"The object is over {max_bytes} bytes")
                return await got.aread()
        except httpx.HTTPError as exc:
            raise CompanionError("ServiceUnavailable", f"{self.url} did not answer") from exc

    async def aclose(self) -> None:
        await self.client.aclose()


def companion() -> Companion | None:
    """The app's companion, or None when this API runs without one."""
    found: Companion | None = current_app.extensions.get("companion")
    return found


async def _request_body(receive: ASGIReceiveCallable) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return  # the client went away; the companion's request fails with it
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return


async def _stream_response(response: httpx.Response, send: ASGISendCallable) -> None:
    headers = [(n, v) for n, v in response.headers.raw if n.lower() not in HOP_BY_HOP]
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    async for chunk in response.aiter_raw():  # raw: a gzip body stays gzip, as sent
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _unreachable(send: ASGISendCallable, message: str) -> None:
    body = f"Tarn's companion AWS endpoint: {message}".encode()
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 502, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _length(response: httpx.Response) -> int:
    return int(response.headers.get("content-length") or 0)


def _s3_error(status: int, body: bytes) -> CompanionError:
    """S3's `<Error><Code>NoSuchKey</Code><Message>...</Message></Error>`."""
    try:
        root = ElementTree.fromstring(body)
        code, message = root.findtext("Code"), root.findtext("Message")
    except ElementTree.ParseError:
        code = message = None
    return CompanionError(code or f"HTTP{status}", message or f"S3 answered HTTP {status}")
