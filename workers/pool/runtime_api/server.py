"""The Lambda Runtime API of one runtime environment: a lean HTTP/1.1 server on its own port.

Mirrors https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html. A raw asyncio
protocol rather than Quart, because it sits on every invocation's path (a Quart prototype
halved throughput). `/next` carries no id, hence one port per environment.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol, cast

from bus.quotas import RUNTIME_RESPONSE_BYTES
from workers.pool.runtime_api.http import Request, RequestParser, response

PREFIX = b"/2018-06-01/runtime"
NEXT = PREFIX + b"/invocation/next"
INVOCATION = PREFIX + b"/invocation/"
INIT_ERROR = PREFIX + b"/init/error"


ACCEPTED = response(202, b'{"status":"OK"}')
INVALID_ID = response(400, b'{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}')
NOT_FOUND = response(404, b'{"errorMessage":"Not Found","errorType":"NotFound"}')
BAD_REQUEST = response(400, b'{"errorMessage":"Bad Request","errorType":"BadRequest"}')
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
# Loop turns after close(): an accept under way makes its connection (then waited for below).
CLOSE_TURNS = 3
# How long aclose() waits for its connections' sockets to be closed (a loop turn or two).
CLOSE_WAIT_S = 1.0


@dataclass(frozen=True, slots=True)
class Posted:
    """What the runtime posted for an invocation. `body` is None when it was too large."""

    kind: Literal["response", "error", "init_error"]
    body: bytes | None
    error_type: str = ""
    streamed: bool = False  # its chunks went to the invocation's sink as they came


class ResponseSink(Protocol):
    """Where a streamed response's chunks go as the runtime sends them (a Redis stream)."""

    def start(self, content_type: str, transport: asyncio.Transport) -> None:
        """The response began; `transport` may be paused while the sink catches up."""

    def write(self, chunk: bytes) -> None: ...


def _new_future() -> asyncio.Future[object]:
    return asyncio.get_running_loop().create_future()


@dataclass(slots=True, eq=False)
class Invocation:
    """One event waiting for, or running in, the environment."""

    request_id: str
    payload: bytes
    invoked_arn: str
    timeout_ms: int
    trace_id: str = ""
    client_context: str | None = None  # base64 JSON, as the API received it
    # Resolved with what the runtime posted, or by the environment (timeout, exit).
    result: asyncio.Future[object] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    handed_out_at: float = 0.0  # monotonic seconds; 0 while the runtime has not taken it
    # Streamed responses: to `sink` if the caller streams, else held whole up to the limit.
    sink: ResponseSink | None = None
    stream_started: bool = False
    held: list[bytes] = field(default_factory=list)
    held_bytes: int = 0

    def take(self, request: Request, transport: asyncio.Transport) -> None:
        """The chunks of a streamed response that arrived since the last call."""
        if not self.stream_started:
            self.stream_started = True
            if self.sink is not None:
                self.sink.start(request.content_type, transport)
        for part in request.parts:
            if self.sink is not None:
                self.sink.write(part)
            else:
                self.held_bytes += len(part)
                if self.held_bytes <= RUNTIME_RESPONSE_BYTES:
                    self.held.append(part)
        request.parts.clear()

    def streamed(self, request: Request) -> Posted:
        """What a streamed response amounts to once it ended (with an error trailer or not)."""
        if request.error_type:
            return Posted("error", request.error_body, request.error_type, streamed=True)
        if self.sink is not None:
            return Posted("response", b"", streamed=True)
        body = b"".join(self.held) if self.held_bytes <= RUNTIME_RESPONSE_BYTES else None
        return Posted("response", body, streamed=True)

    def render(self, deadline_ms: int) -> bytes:
        """The /next response carrying this event, headers and body in one buffer."""
        headers = [
            (b"Lambda-Runtime-Aws-Request-Id", self.request_id.encode()),
            (b"Lambda-Runtime-Deadline-Ms", b"%d" % deadline_ms),
            (b"Lambda-Runtime-Invoked-Function-Arn", self.invoked_arn.encode()),
            (b"Lambda-Runtime-Trace-Id", (self.trace_id or new_trace_id()).encode()),
        ]
        context = _decoded_client_context(self.client_context)
        if context:
            headers.append((b"Lambda-Runtime-Client-Context", context))
        return response(200, self.payload, headers)


def new_trace_id() -> str:
    """An X-Ray trace header for an invocation that came without one, as Lambda starts one."""
    return f"Root=1-{int(time.time()):08x}-{os.urandom(12).hex()};Sampled=0"


def _decoded_client_context(encoded: str | None) -> bytes | None:
    """The runtime gets the client context as JSON text on one header line."""
    if not encoded:
        return None
    try:
        text = base64.b64decode(encoded, validate=True)
        return json.dumps(json.loads(text), separators=(",", ":")).encode()
    except (binascii.Error, ValueError):
        return None  # the API validates it; an odd one is left out rather than break /next


class RuntimeApi:
    """One environment's Runtime API: hands out one invocation at a time, collects results."""

    def __init__(self, on_hand_out: Callable[[Invocation], None] = lambda _: None) -> None:
        self.on_hand_out = on_hand_out
        self.port = 0
        self.first_next_at = 0.0  # monotonic; the runtime finished init when it first asked
        # Set once init is over: the first /next, an init error, or the API closed.
        self.init_over = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._current: Invocation | None = None
        self._waiting: _Connection | None = None  # the runtime's pending /next
        self._init_error: Posted | None = None
        # Every connection from its accept until its socket is closed (connection_lost), one
        # accepted just before close() included.
        self._connections: set[_Connection] = set()
        self._closed = False
        self._disconnected = asyncio.Event()
        self._disconnected.set()

    async def open(self, host: str) -> int:
        """Start listening on an OS-assigned port of `host`; returns the port."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(self), host, 0, backlog=16)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    @property
    def current(self) -> Invocation | None:
        """The invocation offered or running, until the runtime posts its result."""
        return self._current

    def offer(self, invocation: Invocation) -> None:
        """Queue `invocation` for the runtime; it goes out at once if /next is waiting."""
        self._current = invocation
        if self._init_error is not None:  # init failed before anyone asked for this event
            invocation.result.set_result(self._init_error)
            return
        if self._waiting is not None:
            waiting, self._waiting = self._waiting, None
            self._hand_out(waiting, invocation)

    @property
    def init_error(self) -> Posted | None:
        """What the runtime posted to /init/error with no invocation waiting, if it did."""
        return self._init_error

    def close(self) -> None:
        """Stop serving: drop every connection, including a pending /next."""
        self._closed = True
        self._current = None
        self._waiting = None
        self.init_over.set()
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections):
            if connection.connected:  # the others are refused as they connect
                connection.transport.abort()

    async def aclose(self) -> None:
        """close(), then wait until every connection's socket is closed for good, one accepted
        just before included (it is refused): a loop that ends right after must leave none to
        the garbage collector."""
        self.close()
        for _ in range(CLOSE_TURNS):
            await asyncio.sleep(0)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CLOSE_WAIT_S):
                await self.disconnected()

    async def disconnected(self) -> None:
        """Wait until no runtime connection is open (all they sent has been read)."""
        await self._disconnected.wait()

    def handle(self, connection: _Connection, request: Request) -> None:
        if request.method == b"GET" and request.target == NEXT:
            self._next(connection)
        elif request.method == b"POST" and request.target.startswith(INVOCATION):
            request_id, _, action = request.target[len(INVOCATION) :].rpartition(b"/")
            if action == b"response" and request.streaming:
                self._end_stream(connection, request_id, request)
            elif action == b"response":
                self._post(connection, request_id, Posted("response", request.body))
            elif action == b"error":
                posted = Posted("error", request.body, request.error_type)
                self._post(connection, request_id, posted)
            else:
                connection.send(NOT_FOUND)
        elif request.method == b"POST" and request.target == INIT_ERROR:
            self._post_init_error(
                connection, Posted("init_error", request.body, request.error_type)
            )
        else:
            connection.send(NOT_FOUND)

    def _next(self, connection: _Connection) -> None:
        if not self.first_next_at:
            self.first_next_at = time.monotonic()
            self.init_over.set()
        current = self._current
        if current is not None and not current.handed_out_at:
            self._hand_out(connection, current)
        else:
            self._waiting = connection  # blocks until there is work; never an error

    def _hand_out(self, connection: _Connection, invocation: Invocation) -> None:
        invocation.handed_out_at = time.monotonic()
        deadline_ms = int(time.time() * 1000) + invocation.timeout_ms
        self.on_hand_out(invocation)
        connection.send(invocation.render(deadline_ms))

    def _post(self, connection: _Connection, request_id: bytes, posted: Posted) -> None:
        current = self._current
        if current is None or current.request_id.encode() != request_id or current.result.done():
            connection.send(INVALID_ID)
            return
        self._current = None
        current.result.set_result(posted)
        connection.send(ACCEPTED)

    def stream(self, connection: _Connection, request: Request) -> None:
        """Pass on what arrived of a streamed response, to the invocation it belongs to."""
        current = self._streaming_for(request.target)
        if current is None:
            request.parts.clear()
            return
        current.take(request, connection.transport)

    def _end_stream(self, connection: _Connection, request_id: bytes, request: Request) -> None:
        current = self._streaming_for(request.target)
        if current is None:
            connection.send(INVALID_ID)
            return
        current.take(request, connection.transport)
        self._post(connection, request_id, current.streamed(request))

    def _streaming_for(self, target: bytes) -> Invocation | None:
        current = self._current
        request_id = target[len(INVOCATION) :].rpartition(b"/")[0]
        if current is None or current.request_id.encode() != request_id or current.result.done():
            return None
        return current

    def _post_init_error(self, connection: _Connection, posted: Posted) -> None:
        current = self._current
        if current is not None and not current.result.done():
            self._current = None
            current.result.set_result(posted)
        else:
            self._init_error = posted
        self.init_over.set()
        connection.send(ACCEPTED)

    def _accepted(self, connection: _Connection) -> None:
        self._connections.add(connection)
        self._disconnected.clear()

    def _connected(self, connection: _Connection) -> None:
        if self._closed:  # accepted just before close(): it would be left open
            connection.transport.abort()

    def _lost(self, connection: _Connection) -> None:
        self._connections.discard(connection)
        if self._waiting is connection:
            self._waiting = None
        if not self._connections:
            self._disconnected.set()


class _Connection(asyncio.Protocol):
    """One keep-alive connection from the runtime; requests are handled as they complete."""

    def __init__(self, api: RuntimeApi) -> None:
        self.api = api
        self.parser = RequestParser(RUNTIME_RESPONSE_BYTES)
        self.close_after_reply = False
        self.transport: asyncio.Transport
        self.connected = False  # its transport is set
        api._accepted(self)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)
        self.connected = True
        sock = transport.get_extra_info("socket")
        if sock is not None:  # without it, small writes wait ~40 ms for a delayed ACK
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.api._connected(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.api._lost(self)

    def data_received(self, data: bytes) -> None:
        try:
            requests = self.parser.feed(data)
        except ValueError:
            self.close_after_reply = True
            self.send(BAD_REQUEST)
            return
        for request in requests:
            if self.transport.is_closing():
                return
            self.close_after_reply = request.close
            self.api.handle(self, request)
        streaming = self.parser.streaming
        if streaming is not None and streaming.parts:
            self.api.stream(self, streaming)
        if self.parser.continue_due:
            self.parser.continue_due = False
            self.transport.write(CONTINUE)

    def send(self, data: bytes) -> None:
        self.transport.write(data)
        if self.close_after_reply:
            self.transport.close()
