"""One endpoint for everything: Lambda requests go to Tarn's app, every other AWS request to the
companion endpoint, decided per request from the SigV4 credential scope, then X-Amz-Target, then
the path. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, cast
from urllib.parse import unquote_to_bytes

from hypercorn.typing import (
    ASGIFramework,
    ASGIReceiveCallable,
    ASGISendCallable,
    HTTPScope,
    Scope,
)

TARN_PATH = "/_tarn/"
# Function URLs: the path form, onto which the host form `<url-id>.lambda-url.<region>.localhost`
# is mapped; the original path of a host-form request stays in the scope under URL_SCOPE.
URL_PATH = "/_tarn/urls/"
URL_SCOPE = "tarn.url_raw_path"
URL_HOST = re.compile(rb"([a-z0-9]+)\.lambda-url\.[a-z0-9-]+\.localhost(?::\d+)?", re.IGNORECASE)
LAMBDA_SERVICE = b"lambda"
QUERY_CREDENTIAL = b"X-Amz-Credential="  # presigned URLs carry the scope in the query


def signed_service(authorization: bytes) -> bytes | None:
    """The service of `Credential=AKID/20240101/us-east-1/sqs/aws4_request, ...` (SigV4), or of
    `.../20240101/s3/aws4_request` (SigV4a); None when the header has no credential scope."""
    start = authorization.find(b"Credential=")
    if start < 0:
        return None
    scope = authorization[start + 11 :].split(b",", 1)[0].strip().split(b"/")
    return scope[-2].lower() if len(scope) >= 3 else None


def _presigned_service(query_string: bytes) -> bytes | None:
    start = query_string.find(QUERY_CREDENTIAL)
    if start < 0:
        return None
    value = query_string[start + len(QUERY_CREDENTIAL) :].split(b"&", 1)[0]
    return signed_service(b"Credential=" + unquote_to_bytes(value))


def serves_lambda(path: str, query_string: bytes, headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether this request is for Lambda (Tarn) rather than for the companion.

    Runs on every request, Invoke included: a single pass over the headers, a few byte checks.
    """
    target = False
    for name, value in headers:
        if name == b"authorization":
            service = signed_service(value)
            if service is not None:
                return service == LAMBDA_SERVICE
        elif name == b"x-amz-target":
            target = True  # Lambda's REST API never sends one; SQS, DynamoDB, ... do
    if query_string:
        service = _presigned_service(query_string)
        if service is not None:
            return service == LAMBDA_SERVICE
    return not target and is_lambda_path(path)


def is_lambda_path(path: str) -> bool:
    """Unsigned requests: every Lambda API path starts with a dated version (`/2015-03-31/`,
    and new ones as AWS adds operations), and Tarn's own with `/_tarn/`. An unsigned S3
    request for a bucket named like a date is the one thing this sends the wrong way."""
    return path.startswith(TARN_PATH) or (
        len(path) > 12
        and path[11] == "/"
        and path[5] == "-"
        and path[8] == "-"
        and path[1:5].isdigit()
        and path[6:8].isdigit()
        and path[9:11].isdigit()
    )


def function_url_scope(scope: HTTPScope) -> Scope | None:
    """A host-form function URL request as its path form (a new scope); None for any other."""
    host = next((value for name, value in scope["headers"] if name == b"host"), b"")
    if b".lambda-url." not in host:
        return None
    match = URL_HOST.fullmatch(host)
    if match is None:
        return None
    prefix = URL_PATH + match[1].decode().lower()
    raw_path = scope.get("raw_path") or scope["path"].encode()
    rewritten: dict[str, Any] = {
        **scope,
        "path": prefix + scope["path"],
        "raw_path": prefix.encode() + raw_path,
        URL_SCOPE: raw_path,
    }
    return cast(HTTPScope, rewritten)


class Router:
    """The ASGI app on the port: function URLs by their Host header, then HTTP requests for
    other services to `companion` (when there is one), the rest to Tarn's app."""

    def __init__(self, lambda_app: ASGIFramework, companion: ASGIFramework | None) -> None:
        self.lambda_app = lambda_app
        self.companion = companion

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if scope["type"] == "http":
            url_scope = function_url_scope(scope)
            if url_scope is not None:
                await self.lambda_app(url_scope, receive, send)
                return
            if self.companion is not None and not serves_lambda(
                scope["path"], scope["query_string"], scope["headers"]
            ):
                await self.companion(scope, receive, send)
                return
        await self.lambda_app(scope, receive, send)  # lifespan too: Quart owns the lifetimes
