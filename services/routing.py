"""One endpoint for everything: Lambda requests go to Tarn's app, every other AWS request to the
companion endpoint, decided per request from the SigV4 credential scope, then X-Amz-Target, then
the path. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote_to_bytes

from hypercorn.typing import ASGIFramework, ASGIReceiveCallable, ASGISendCallable, Scope

TARN_PATH = "/_tarn/"
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


class Router:
    """The ASGI app on the port: HTTP requests for other services go to `companion`."""

    def __init__(self, lambda_app: ASGIFramework, companion: ASGIFramework) -> None:
        self.lambda_app = lambda_app
        self.companion = companion

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if scope["type"] == "http" and not serves_lambda(
            scope["path"], scope["query_string"], scope["headers"]
        ):
            await self.companion(scope, receive, send)
            return
        await self.lambda_app(scope, receive, send)  # lifespan too: Quart owns the lifetimes
