"""A stay-open function: Lambda's Invoke API for one function on 127.0.0.1 (docker-lambda's
DOCKER_LAMBDA_STAY_OPEN), warm between calls, reloaded on changes when watching.

Any function name in the path reaches it, as in docker-lambda. It honours X-Amz-Invocation-Type
(RequestResponse, Event, DryRun), X-Amz-Log-Type: Tail and X-Amz-Client-Context:
https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
A bare ASGI callable on Hypercorn: one function needs no framework.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio
from anyio.abc import TaskGroup

from bus.settings import Settings
from workers.standalone.functions import LocalFunction
from workers.standalone.invoker import LocalInvoker, UnsupportedFunction
from workers.standalone.watching import watch_folders

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

INVOCATIONS = re.compile(r"^/2015-03-31/functions/[^/]+/invocations$")
INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")
STATUS = {"RequestResponse": 200, "Event": 202, "DryRun": 204}


class InvokeApi:
    """The ASGI app: POST /2015-03-31/functions/{any name}/invocations runs the function."""

    def __init__(self, invoker: LocalInvoker, tasks: TaskGroup) -> None:
        self.invoker = invoker
        self.tasks = tasks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # lifespan: nothing to set up
        if scope["method"] != "POST" or not INVOCATIONS.match(scope["path"]):
            message = f"Function not found: {scope['path']}"
            await _error(send, 404, "ResourceNotFoundException", message)
            return
        body = (await _body(receive)).strip() or b"{}"  # no payload is `{}`, as on AWS
        try:
            json.loads(body)
        except ValueError as exc:
            message = (
                f"Could not parse request body into json: Could not parse payload into json: {exc}"
            )
            await _error(send, 400, "InvalidRequestContentException", message)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        kind = headers.get("x-amz-invocation-type", "RequestResponse")
        if kind not in INVOCATION_TYPES:
            message = f"1 validation error detected: Value '{kind}' at 'invocationType' failed "
            message += (
                f"to satisfy constraint: Member must satisfy enum value set: {INVOCATION_TYPES}"
            )
            await _error(send, 400, "ValidationException", message)
            return
        if kind == "Event":
            self.tasks.start_soon(self._invoke_async, body)
        if kind != "RequestResponse":
            await _respond(send, STATUS[kind], b"", [])
            return
        tail = headers.get("x-amz-log-type") == "Tail"
        context = headers.get("x-amz-client-context")
        try:
            invoked = await self.invoker.invoke(body, client_context=context)
        except UnsupportedFunction as exc:  # e.g. the runtime's image went away
            await _error(send, 500, "ServiceException", str(exc))
            return
        outcome = invoked.outcome
        extra = [
            (b"x-amzn-requestid", invoked.request_id.encode()),
            (b"x-amz-executed-version", self.invoker.record.version.encode()),
        ]
        if outcome.function_error:
            extra.append((b"x-amz-function-error", outcome.function_error.encode()))
        if tail:
            extra.append((b"x-amz-log-result", base64.b64encode(outcome.log_tail)))
        await _respond(send, 200, outcome.payload, extra)

    async def _invoke_async(self, body: bytes) -> None:
        try:
            await self.invoker.invoke(body)
        except UnsupportedFunction as exc:
            say(f"the Event invocation could not run: {exc}")


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _respond(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    length = str(len(body)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", length), *headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _error(send: Send, status: int, error_type: str, message: str) -> None:
    body = json.dumps({"Type": "User", "message": message}).encode()
    await _respond(send, status, body, [(b"x-amzn-errortype", error_type.encode())])


async def serve_function(
    function: LocalFunction, settings: Settings, port: int, watch: bool
) -> None:
    """Serve the function's Invoke API on 127.0.0.1:`port` until SIGINT or SIGTERM."""
    if watch:
        function = without_bytecode_cache(function)
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    # Bound before the line that says so (a client may go at once); Hypercorn owns it then.
    config = Config()
    config.bind = [f"fd://{_listen(port).detach()}"]
    config.accesslog = None
    config.loglevel = "WARNING"  # our own line says where it serves
    config.keep_alive_timeout = float(function.timeout_s + 5)  # outlasts the longest call
    stop = anyio.Event()
    async with LocalInvoker(function, settings, sys.stderr.buffer) as invoker:
        await invoker.warm()
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_stop_on_signal, stop)
            if watch:
                tasks.start_soon(watch_folders, function.watched, invoker.reload, stop)
            say(
                f"serving {function.name} ({function.handler}, {function.runtime}) on "
                f"http://127.0.0.1:{port}/2015-03-31/functions/{function.name}/invocations"
                + (", reloading on changes" if watch else "")
            )
            async with anyio.create_task_group() as events:  # Event invocations run here
                try:
                    app = InvokeApi(invoker, events)
                    await serve(app, config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]
                finally:
                    stop.set()  # the watcher and the signal receiver end with it
                    events.cancel_scope.cancel()


def without_bytecode_cache(function: LocalFunction) -> LocalFunction:
    """Python checks a cached .pyc by its source's size and mtime in whole seconds: a module
    saved twice within a second at the same size would reload as it was. Not writing them
    while watching keeps every reload true (a function's own setting wins)."""
    environment = {"PYTHONDONTWRITEBYTECODE": "1", **function.environment}
    return dataclasses.replace(function, environment=environment)


def _listen(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:`port`; OSError if the port is taken."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
    except OSError:
        listener.close()
        raise
    return listener


async def _stop_on_signal(stop: anyio.Event) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            stop.set()
            return


def say(message: str) -> None:
    print(f"tarn: {message}", file=sys.stderr, flush=True)
