"""The Quart application: blueprints, the error renderer, and Redis/inbox lifetimes; and the
endpoint that serves it on the port, next to the companion AWS endpoint."""

from __future__ import annotations

import logging

import anyio
from hypercorn.typing import ASGIFramework
from quart import Quart, Response
from werkzeug.exceptions import HTTPException

from bus.connection import connect
from bus.settings import Settings
from services import (
    account,
    aliases,
    code_signing,
    concurrency,
    event_invoke_configs,
    event_source_mappings,
    function_code,
    function_settings,
    functions,
    health,
    invoke,
    layer_policies,
    layers,
    policies,
    tags,
    unsupported,
    url_configs,
    versions,
)
from services.companion import Companion
from services.context import ApiContext
from services.errors import (
    InvalidRequestContentException,
    LambdaError,
    RequestEntityTooLargeException,
    ServiceException,
    UnknownOperationException,
    render,
)
from services.routing import Router

log = logging.getLogger("tarn.api")

# The largest request any operation takes: CreateFunction with a 50 MB zip in base64.
MAX_REQUEST_BYTES = 70_167_211


def create_app(settings: Settings) -> Quart:
    app = Quart("tarn")
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES + 1
    app.config["BODY_TIMEOUT"] = 300
    app.config["RESPONSE_TIMEOUT"] = 960  # outlasts the longest function timeout
    modules = (functions, function_code, invoke, versions, aliases, layers, health)
    for module in (*modules, event_invoke_configs, event_source_mappings):
        app.register_blueprint(module.blueprint)
    for module in (policies, layer_policies, tags, url_configs):
        app.register_blueprint(module.blueprint)
    for module in (code_signing, concurrency, function_settings, account, unsupported):
        app.register_blueprint(module.blueprint)
    app.register_error_handler(LambdaError, _render_lambda_error)
    app.register_error_handler(HTTPException, _render_http_error)
    app.register_error_handler(Exception, _render_unexpected)
    _manage_lifetimes(app, settings)
    if settings.aws_endpoint:
        companion = Companion(settings.aws_endpoint)
        app.extensions["companion"] = companion
        app.after_serving(companion.aclose)
    return app


def create_endpoint(settings: Settings) -> ASGIFramework:
    """What the port serves: the app for Lambda, the companion for every other AWS service."""
    app = create_app(settings)
    companion: Companion | None = app.extensions.get("companion")
    return app if companion is None else Router(app, companion)


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
        state["tasks"] = task_group

    @app.after_serving
    async def close_resources() -> None:
        task_group = state.pop("tasks")
        assert isinstance(task_group, anyio.abc.TaskGroup)
        task_group.cancel_scope.cancel()
        await task_group.__aexit__(None, None, None)
        await app.extensions["tarn"].aclose()


async def _render_lambda_error(error: LambdaError) -> Response:
    return render(error)


async def _render_http_error(error: HTTPException) -> Response:
    if error.code == 413:
        return render(
            RequestEntityTooLargeException(
                f"Request must be smaller than {MAX_REQUEST_BYTES} bytes for the operation"
            )
        )
    if error.code in (404, 405):
        return render(UnknownOperationException("Unknown operation"))
    if error.code is not None and error.code < 500:
        return render(InvalidRequestContentException(error.description or "Bad request"))
    return render(ServiceException(error.description or "Internal error"))


async def _render_unexpected(error: Exception) -> Response:
    log.exception("unexpected error", exc_info=error)
    return render(ServiceException("An internal error occurred. See Tarn's log for details."))
