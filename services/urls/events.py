"""Payload format 2.0 for function URLs: the event a request becomes and how the function's
result becomes the HTTP response. https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
"""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import msgspec

# Content types whose bodies the event carries as text; every other body is base64.
TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml")
TEXT_SUFFIXES = ("+json", "+xml")
# Headers the URL layer itself handles: never passed to the function.
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "upgrade"}


@dataclass(frozen=True, slots=True)
class UrlRequest:
    """One HTTP request to a function URL, as the URL layer received it."""

    url_id: str
    domain_name: str
    method: str
    raw_path: str
    raw_query: str
    headers: list[tuple[str, str]]  # names lower-cased, in the order they came
    body: bytes
    source_ip: str
    protocol: str = "HTTP/1.1"
    sent_path: str = "/"  # the path the client sent (and signed), whichever URL form
    port: int = 80  # the server's

    @property
    def sent_url(self) -> str:
        query = f"?{self.raw_query}" if self.raw_query else ""
        return f"http://{self.header('host') or self.domain_name}{self.sent_path}{query}"

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key == name), None)


def event(
    request: UrlRequest, request_id: str, trace_id: str, authorizer: dict[str, Any] | None
) -> bytes:
    """The payload format 2.0 event of `request` (`authorizer`: the IAM caller, if signed)."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        if name == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
        elif name not in HOP_HEADERS:
            headers[name] = f"{headers[name]},{value}" if name in headers else value
    # What AWS's front end adds (its TLS ones aside: these URLs are plain HTTP).
    headers["x-amzn-trace-id"] = trace_id
    headers["x-forwarded-for"] = request.source_ip
    headers["x-forwarded-proto"] = "http"
    headers["x-forwarded-port"] = str(request.port)
    now = time.time()
    body: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
    }
    if cookies:
        body["cookies"] = cookies
    body["headers"] = headers
    query = _query_parameters(request.raw_query)
    if query:
        body["queryStringParameters"] = query
    body["requestContext"] = _request_context(request, request_id, authorizer, now)
    if request.body:
        binary = not _is_text(headers.get("content-type", ""))
        text = base64.b64encode(request.body) if binary else request.body
        body["body"] = text.decode(errors="replace")
        body["isBase64Encoded"] = binary
    else:
        body["isBase64Encoded"] = False
    return msgspec.json.encode(body)


def _query_parameters(raw_query: str) -> dict[str, str]:
    """Repeated parameters joined by commas, as AWS joins them."""
    joined: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    return joined


def _request_context(
    request: UrlRequest, request_id: str, authorizer: dict[str, Any] | None, now: float
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "accountId": authorizer["iam"]["accountId"] if authorizer else "anonymous",
        "apiId": request.url_id,
        "domainName": request.domain_name,
        "domainPrefix": request.url_id,
        "http": {
            "method": request.method,
            "path": request.raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": request.header("user-agent") or "",
        },
        "requestId": request_id,
        "routeKey": "$default",
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }
    if authorizer:
        context["authorizer"] = authorizer
    return context


def _is_text(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media.startswith(TEXT_TYPES) or media.endswith(TEXT_SUFFIXES)


@dataclass(slots=True)
class HttpResult:
    """What the client gets: status, headers (repeatable, e.g. Set-Cookie) and body."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    chunks: AsyncIterator[bytes] | None = None  # a streamed body, instead of `body`


class BadResponse(ValueError):
    """The function's result cannot be mapped to an HTTP response: AWS answers 502."""


def http_result(payload: bytes) -> HttpResult:
    """The HTTP response AWS makes of a function's result: an object with `statusCode` is a
    response; any other JSON value is a 200 body (a string as its text)."""
    try:
        value = msgspec.json.decode(payload)
    except msgspec.DecodeError:
        raise BadResponse("the function's result is not JSON") from None
    if isinstance(value, str):
        return HttpResult(200, [("content-type", "application/json")], value.encode())
    if not isinstance(value, dict) or "statusCode" not in value:
        return HttpResult(200, [("content-type", "application/json")], payload)
    return _mapped(value)


def _mapped(value: dict[str, Any]) -> HttpResult:
    try:
        status = int(value["statusCode"])
    except (TypeError, ValueError):
        raise BadResponse("statusCode is not a number") from None
    if not 100 <= status <= 599:
        raise BadResponse("statusCode out of range")
    result = HttpResult(status, headers=list(_headers(value)))
    if not any(name == "content-type" for name, _ in result.headers):
        result.headers.append(("content-type", "application/json"))
    for cookie in value.get("cookies") or ():
        result.headers.append(("set-cookie", str(cookie)))
    body = value.get("body")
    if body is None:
        return result
    text = body if isinstance(body, str) else msgspec.json.encode(body).decode()
    if value.get("isBase64Encoded"):
        try:
            result.body = base64.b64decode(text, validate=True)
        except ValueError:
            raise BadResponse("body is not base64") from None
    else:
        result.body = text.encode()
    return result


def _headers(value: dict[str, Any]) -> Iterable[tuple[str, str]]:
    """`headers` (one value each) then `multiValueHeaders` (lists), names lower-cased."""
    for name, header in (value.get("headers") or {}).items():
        yield name.lower(), _text(header)
    for name, values in (value.get("multiValueHeaders") or {}).items():
        for header in values if isinstance(values, list) else [values]:
            yield name.lower(), _text(header)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else msgspec.json.encode(value).decode()
