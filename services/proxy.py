"""The forwarding proxy: requests for AWS services other than Lambda go to the companion
endpoint (moto server, or one the user names) unchanged, and its answers stream back.
Tarn's own calls to the companion go through bus.aws.Companion instead. httpx (with the rich
and click it loads, 40 ms) is imported at the first forward, not at the API's start.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import cached_property
from typing import TYPE_CHECKING

from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, Scope

if TYPE_CHECKING:
    import httpx

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
# Hypercorn writes its own on every answer: the companion's too would be a second Date header,
# which the AWS SDK for JavaScript (the CDK CLI) reads as one unparsable date for its clock skew,
# and then signs nothing more ("RangeError: Invalid time value").
WRITTEN_BY_SERVER = frozenset({b"date", b"server"})
# SQS long polls wait up to 20 s; DynamoDB and S3 transfers can take long on a slow disk.
FORWARD_TIMEOUT_S, CONNECT_TIMEOUT_S = 300.0, 5.0


class CompanionProxy:
    """The ASGI app that forwards each request to the companion endpoint at `url`."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    @cached_property
    def base(self) -> httpx.URL:
        import httpx

        return httpx.URL(self.url)

    @cached_property
    def client(self) -> httpx.AsyncClient:
        # Made at the first forward, not at start: a client loads the CA certificates (about
        # 0.1 s of the API's start).
        import httpx

        return httpx.AsyncClient(
            timeout=httpx.Timeout(FORWARD_TIMEOUT_S, connect=CONNECT_TIMEOUT_S),
            # Loopback or the user's own endpoint: never through an HTTP(S)_PROXY.
            trust_env=False,
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
        )

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        import httpx

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

    async def aclose(self) -> None:
        if "client" in self.__dict__:  # made
            await self.client.aclose()


async def _request_body(receive: ASGIReceiveCallable) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return  # the client went away; the companion's request fails with it
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return


async def _stream_response(response: httpx.Response, send: ASGISendCallable) -> None:
    dropped = HOP_BY_HOP | WRITTEN_BY_SERVER
    headers = [(n, v) for n, v in response.headers.raw if n.lower() not in dropped]
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    async for chunk in response.aiter_raw():  # raw: a gzip body stays gzip, as sent
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _unreachable(send: ASGISendCallable, message: str) -> None:
    body = f"Tarn's companion AWS endpoint: {message}".encode()
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 502, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
