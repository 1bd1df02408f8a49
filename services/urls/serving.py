"""Function URLs over plain HTTP: `/_tarn/urls/<url-id>/...` (the router maps the host form
`<url-id>.lambda-url.<region>.localhost` onto it), invoked with a payload format 2.0 event.
https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, cast

from quart import Blueprint, Response, request

from bus.messages import InvocationCompleted, InvocationRejected, Reply
from bus.quotas import SYNC_PAYLOAD_BYTES
from bus.records import LATEST, FunctionUrlConfig
from services.context import ApiContext, api
from services.errors import LambdaError
from services.functions.refs import FunctionRef
from services.invocations.invoke import resolve_target, trace_id
from services.invocations.streaming import StreamItem, start_streamed
from services.requests import read_body
from services.routing import URL_PATH, URL_SCOPE
from services.urls import access
from services.urls.events import BadResponse, HttpResult, UrlRequest, event, http_result
from services.urls.streamed import streamed_result

blueprint = Blueprint("function_urls", __name__)

FRAMING_HEADERS = {"content-length", "transfer-encoding", "connection"}
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
FORBIDDEN = HttpResult(
    403, [("x-amzn-errortype", "AccessDeniedException")], b'{"Message":"Forbidden"}'
)
# AWS's answers when the function failed, or returned what is no HTTP response.
BAD_GATEWAY = HttpResult(502, [("x-amzn-errortype", "LambdaUserError")], b"Internal Server Error")
THROTTLED = HttpResult(
    429, [("x-amzn-errortype", "TooManyRequestsException")], b'{"Message":"Rate Exceeded."}'
)
INTERNAL = HttpResult(
    500, [("x-amzn-errortype", "InternalFailure")], b'{"Message":"Internal Server Error"}'
)
TOO_LARGE = HttpResult(
    413,
    [("x-amzn-errortype", "RequestEntityTooLargeException")],
    b'{"Message":"Request Entity Too Large"}',
)


def _route(rule: str) -> Callable[[Callable[..., Awaitable[Response]]], Any]:
    return blueprint.route(rule, methods=METHODS, provide_automatic_options=False)


@_route(URL_PATH + "<url_id>")
@_route(URL_PATH + "<url_id>/")
@_route(URL_PATH + "<url_id>/<path:rest>")
async def serve_url(url_id: str, rest: str = "") -> Response:
    context = api()
    config = await context.stores.url_configs.by_url_id(url_id)
    if config is None:
        return _respond(FORBIDDEN, request.method)
    if (request.content_length or 0) > SYNC_PAYLOAD_BYTES:
        return _respond(TOO_LARGE, request.method)
    url_request = await _url_request(context, url_id)
    cors = config.cors or {}
    if cors and access.is_preflight(url_request):
        return _respond(HttpResult(200, access.preflight_headers(cors, url_request)), "OPTIONS")
    result = await _invoke(context, config, url_request)
    if cors:
        extra = access.response_headers(cors, url_request)
        names = {name for name, _ in extra}
        kept = [h for h in result.headers if h[0] not in names]
        result = dataclasses.replace(result, headers=kept + extra)  # never change the constants
    return _respond(result, request.method)


async def _invoke(
    context: ApiContext, config: FunctionUrlConfig, url_request: UrlRequest
) -> HttpResult:
    authorizer = None
    if config.auth_type == "AWS_IAM":
        authorizer = access.iam_caller(
            url_request, context.settings.region, context.settings.account_id
        )
        if authorizer is None:
            return FORBIDDEN
    else:
        policy = await context.stores.policies.function(config.function_name, config.qualifier)
        if not access.allowed_anonymously(config, policy):
            return FORBIDDEN
    request_id, trace = str(uuid.uuid4()), trace_id()
    payload = event(url_request, request_id, trace, authorizer)
    if len(payload) > SYNC_PAYLOAD_BYTES:
        return TOO_LARGE
    try:
        record, invoked_arn = await resolve_target(context, _target(config))
    except LambdaError:
        return INTERNAL
    if config.invoke_mode == "RESPONSE_STREAM":
        items = await start_streamed(context, record, invoked_arn, payload, request_id, trace=trace)
        return await _streamed(items)
    reply = await context.inbox.invoke(
        record,
        payload,
        request_id=request_id,
        invoked_arn=invoked_arn,
        trace_id=trace,
        trigger="url",
    )
    return _result_of(reply)


async def _streamed(items: AsyncGenerator[StreamItem, None]) -> HttpResult:
    try:
        result = await streamed_result(await anext(items), items)
    except BadResponse:
        await items.aclose()
        return BAD_GATEWAY
    return result if isinstance(result, HttpResult) else _result_of(result)


def _result_of(reply: Reply | None) -> HttpResult:
    match reply:
        case InvocationCompleted(function_error=None):
            try:
                return http_result(reply.payload)
            except BadResponse:
                return BAD_GATEWAY
        case InvocationCompleted():
            return BAD_GATEWAY
        case InvocationRejected(error_type="TooManyRequestsException"):
            return THROTTLED
        case _:
            return INTERNAL


def _target(config: FunctionUrlConfig) -> FunctionRef:
    return FunctionRef(
        config.function_name, None if config.qualifier == LATEST else config.qualifier
    )


async def _url_request(context: ApiContext, url_id: str) -> UrlRequest:
    """The request as the client sent it, whichever of the two URL forms it came by."""
    scope = request.scope
    original = cast(bytes | None, scope.get(URL_SCOPE))
    sent_path = (original or scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    raw_path = sent_path
    if original is None:  # the path form: what follows /_tarn/urls/<url-id>
        raw_path = sent_path[len(URL_PATH) + len(url_id) :]
    settings = context.settings
    client = scope.get("client") or ("127.0.0.1", 0)
    return UrlRequest(
        url_id=url_id,
        domain_name=f"{url_id}.lambda-url.{settings.region}.localhost",
        method=request.method,
        raw_path=raw_path or "/",
        raw_query=scope["query_string"].decode("latin-1"),
        headers=[(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]],
        body=await read_body(),
        source_ip=client[0],
        protocol=f"HTTP/{scope.get('http_version', '1.1')}",
        sent_path=sent_path,
        port=(scope.get("server") or ("", 80))[1] or 80,
    )


def _respond(result: HttpResult, method: str) -> Response:
    body = result.chunks if result.chunks is not None else result.body
    response = Response(b"" if method == "HEAD" else body, status=result.status)
    del response.headers["content-type"]  # Quart's default; the result says its own
    for name, value in result.headers:
        if name not in FRAMING_HEADERS:  # the server frames the body itself
            response.headers.add(name, value)
    if "content-type" not in response.headers:
        response.headers["content-type"] = "application/json"
    return response
