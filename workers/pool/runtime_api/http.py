"""Just enough HTTP/1.1 for the Runtime API: a request parser and a response renderer.

Runtime clients (awslambdaric's libcurl, Node's http, curl in a shell bootstrap) send small
requests with Content-Length or chunked bodies over keep-alive connections.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_HEAD_BYTES = 64 * 1024
# A chunked body is held whole until it ends; past this the connection is refused.
MAX_CHUNKED_BYTES = 64 * 1024 * 1024

REASONS = {200: b"OK", 202: b"Accepted", 400: b"Bad Request", 404: b"Not Found"}


@dataclass(slots=True)
class Request:
    method: bytes
    target: bytes
    error_type: str = ""  # Lambda-Runtime-Function-Error-Type
    close: bool = False  # the client asked to close the connection after this one
    length: int = 0
    chunked: bool = False
    expect_continue: bool = False
    body: bytes | None = b""  # None: longer than the parser's limit, read and dropped
    # A streamed response (Lambda-Runtime-Function-Response-Mode: streaming): its chunks are
    # handed on as they arrive (`parts`, drained by the reader) instead of held as `body`;
    # the error trailers, if any, come in `error_type` and `error_body`.
    streaming: bool = False
    content_type: str = ""
    parts: list[bytes] = field(default_factory=list)
    error_body: bytes = b""


class RequestParser:
    """Turns the bytes of one connection into requests; bodies over `max_body` are dropped."""

    def __init__(self, max_body: int) -> None:
        self.max_body = max_body
        self.continue_due = False  # the client waits for "100 Continue" before its body
        self._buffer = bytearray()
        self._request: Request | None = None
        self._dropped = 0

    @property
    def streaming(self) -> Request | None:
        """The streamed request still arriving, whose `parts` the reader drains."""
        request = self._request
        return request if request is not None and request.streaming else None

    def feed(self, data: bytes) -> list[Request]:
        """The requests `data` completes, in order; raises ValueError on a malformed one."""
        self._buffer += data
        complete = []
        while (request := self._next()) is not None:
            complete.append(request)
        return complete

    def _next(self) -> Request | None:
        if self._request is None:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > MAX_HEAD_BYTES:
                    raise ValueError("request head too large")
                return None
            self._request = parse_head(bytes(self._buffer[:end]))
            del self._buffer[: end + 4]
            self._dropped = 0
        request = self._request
        if request.streaming:
            done = self._read_streamed(request)
        elif request.chunked:
            done = self._read_chunked(request)
        else:
            done = self._read_sized(request)
        if not done:
            if request.expect_continue:
                request.expect_continue = False
                self.continue_due = True
            return None
        self._request = None
        return request

    def _read_sized(self, request: Request) -> bool:
        buffer = self._buffer
        if request.length > self.max_body:  # drop it as it streams in; never hold it all
            take = min(len(buffer), request.length - self._dropped)
            del buffer[:take]
            self._dropped += take
            request.body = None
            return self._dropped == request.length
        if len(buffer) < request.length:
            return False
        request.body = bytes(buffer[: request.length])
        del buffer[: request.length]
        return True

    def _read_chunked(self, request: Request) -> bool:
        buffer = self._buffer
        if len(buffer) > MAX_CHUNKED_BYTES:
            raise ValueError("chunked body too large")
        spans: list[tuple[int, int]] = []
        position = 0
        while True:
            line_end = buffer.find(b"\r\n", position)
            if line_end < 0:
                return False
            size = int(bytes(buffer[position:line_end]).split(b";")[0], 16)
            if size == 0:
                end = buffer.find(b"\r\n\r\n", line_end)  # after any trailers
                if end < 0:
                    return False
                total = sum(stop - start for start, stop in spans)
                view = memoryview(buffer)
                body = b"".join(view[start:stop] for start, stop in spans)
                view.release()
                request.body = body if total <= self.max_body else None
                del buffer[: end + 4]
                return True
            start = line_end + 2
            if len(buffer) < start + size + 2:
                return False
            spans.append((start, start + size))
            position = start + size + 2

    def _read_streamed(self, request: Request) -> bool:
        """Move each complete chunk to `request.parts`; True once the last one (and the
        trailers) arrived. Nothing is held but one incomplete chunk."""
        buffer = self._buffer
        while True:
            line_end = buffer.find(b"\r\n")
            if line_end < 0:
                return False
            size = int(bytes(buffer[:line_end]).split(b";")[0], 16)
            if size == 0:
                end = buffer.find(b"\r\n\r\n", line_end)
                if end < 0:
                    return False
                _read_trailers(request, bytes(buffer[line_end : end + 2]))
                del buffer[: end + 4]
                return True
            start = line_end + 2
            if len(buffer) < start + size + 2:
                if size > MAX_CHUNKED_BYTES:
                    raise ValueError("chunk too large")
                return False
            request.parts.append(bytes(buffer[start : start + size]))
            del buffer[: start + size + 2]


def _read_trailers(request: Request, raw: bytes) -> None:
    """The error a streamed response ended with: its type, and its body in base64."""
    lower = raw.lower()
    error_type = _header(raw, lower, b"\r\nlambda-runtime-function-error-type:")
    if error_type:
        request.error_type = error_type.decode(errors="replace")
    error_body = _header(raw, lower, b"\r\nlambda-runtime-function-error-body:")
    if error_body:
        try:
            request.error_body = base64.b64decode(error_body, validate=True)
        except binascii.Error:
            request.error_body = error_body


def parse_head(raw: bytes) -> Request:
    line_end = raw.find(b"\r\n")
    parts = (raw if line_end < 0 else raw[:line_end]).split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
        raise ValueError(f"not an HTTP/1.x request line: {raw[:100]!r}")
    # Looking up the few headers that matter beats splitting them all: this runs twice
    # per invocation.
    lower = raw.lower()
    request = Request(parts[0], parts[1], close=parts[2] == b"HTTP/1.0")
    length = _header(raw, lower, b"\r\ncontent-length:")
    request.length = int(length) if length is not None else 0
    if request.length < 0:
        raise ValueError("negative Content-Length")
    request.chunked = b"chunked" in (_header(lower, lower, b"\r\ntransfer-encoding:") or b"")
    error_type = _header(raw, lower, b"\r\nlambda-runtime-function-error-type:")
    request.error_type = error_type.decode(errors="replace") if error_type else ""
    request.expect_continue = _header(lower, lower, b"\r\nexpect:") == b"100-continue"
    mode = _header(lower, lower, b"\r\nlambda-runtime-function-response-mode:")
    request.streaming = request.chunked and mode == b"streaming"
    content_type = _header(raw, lower, b"\r\ncontent-type:")
    request.content_type = content_type.decode(errors="replace") if content_type else ""
    connection = _header(lower, lower, b"\r\nconnection:")
    if connection is not None:
        request.close = connection == b"close"
    return request


def _header(raw: bytes, lower: bytes, name: bytes) -> bytes | None:
    """The value of header `name` (lower case, with its CRLF and colon) in `raw`, stripped."""
    start = lower.find(name)
    if start < 0:
        return None
    start += len(name)
    end = raw.find(b"\r\n", start)
    return raw[start : None if end < 0 else end].strip()


def response(status: int, body: bytes, headers: Iterable[tuple[bytes, bytes]] = ()) -> bytes:
    """A whole response in one buffer, so it goes out in one write (one TCP segment)."""
    parts = [b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n" % (status, REASONS[status])]
    for name, value in headers:
        parts += (name, b": ", value, b"\r\n")
    parts += (b"Content-Length: %d\r\n\r\n" % len(body), body)
    return b"".join(parts)
