"""The Quart application (blueprints, error handlers, Redis and reply-inbox lifetimes) and the
endpoint that serves it on the port, next to the forwarding proxy to the companion endpoint."""

from __future__ import annotations

import uuid

import anyio
from hypercorn.typing import ASGIFramework
from quart import Quart, Response, request

from bus.quotas import REQUEST_BYTES
from bus.settings import Settings
from bus.transport.connection import connect
from services import account, code_signing, console, health, layers, tags, unsupported
from services.context import ApiContext
from services.errors import register_error_handlers
from services.event_source_mappings import operations as event_source_mappings
from services.functions import (
    aliases,
    concurrency,
    event_invoke_configs,
    facts,
    management,
    packages,
    url_configs,
    versions,
)
from services.functions import settings as function_settings
from services.invocations import invoke, streaming
from services.permissions import functions as function_permissions
from services.permissions import layers as layer_permissions
from services.proxy import CompanionProxy
from services.routing import Router
from services.urls import serving as function_urls

BLUEPRINT_MODULES = (
    management,
    packages,
    invoke,
    streaming,
    versions,
    aliases,
    layers,
    health,
    facts,
    event_invoke_configs,
    event_source_mappings,
    function_permissions,
    layer_permissions,
    tags,
    url_configs,
    code_signing,
    concurrency,
    function_settings,
    account,
    function_urls,
    console,
    unsupported,
)


def create_app(settings: Settings) -> Quart:
    app = Quart("tarn")
    app.url_map.merge_slashes = False  # `/functions//code` names no function: no redirect
    app.config["MAX_CONTENT_LENGTH"] = REQUEST_BYTES + 1
    app.config["BODY_TIMEOUT"] = 300
    app.config["RESPONSE_TIMEOUT"] = 960  # outlasts the longest function timeout
    for module in BLUEPRINT_MODULES:
        app.register_blueprint(module.blueprint)
    register_error_handlers(app)
    app.before_request(_receive_whole_body)
    app.after_request(_add_request_id)
    _manage_lifetimes(app, settings)
    return app


async def _receive_whole_body() -> None:
    """Take in the whole request body before answering, also where the operation reads none
    (a GET sent with a body): an answer sent while body bytes are still unread makes the
    server drop the connection, and a client that reuses it fails with a reset connection."""
    length = request.content_length
    if length is not None and length > REQUEST_BYTES:
        return  # the operation refuses it, naming itself; the connection closes anyway
    if length or "Transfer-Encoding" in request.headers:
        await request.get_data()


async def _add_request_id(response: Response) -> Response:
    """AWS answers every request with `x-amzn-RequestId`, a fresh UUID (Invoke: its own)."""
    if "X-Amzn-RequestId" not in response.headers:  # Invoke's is set: no UUID to waste
        response.headers["X-Amzn-RequestId"] = str(uuid.uuid4())
    return response


def create_endpoint(settings: Settings) -> ASGIFramework:
    """What the port serves: the app for Lambda, the companion for every other AWS service."""
    app = create_app(settings)
    if not settings.aws_endpoint:
        return Router(app, None)
    proxy = CompanionProxy(settings.aws_endpoint)
    app.after_serving(proxy.aclose)
    return Router(app, proxy)


def _manage_lifetimes(app: Quart, settings: Settings) -> None:
    state: dict[str, object] = {}

    @app.before_serving
    async def open_resources() -> None:
        redis = connect(settings)
        context = ApiContext.create(settings, redis)
        app.extensions["tarn"] = context
        await context.inbox.open()
        task_group = anyio.create_task_group()
        await task_group.__aenter__()
        task_group.start_soon(context.inbox.run)
        task_group.start_soon(context.records.run)
        state["tasks"] = task_group

    @app.after_serving
    async def close_resources() -> None:
        task_group = state.pop("tasks")
        assert isinstance(task_group, anyio.abc.TaskGroup)
        task_group.cancel_scope.cancel()
        await task_group.__aexit__(None, None, None)
        await app.extensions["tarn"].aclose()
