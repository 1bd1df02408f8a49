"""The Runtime API server on its own, spoken to over real sockets like a runtime client does."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import time
from collections.abc import AsyncIterator

import anyio
import pytest

from bus.quotas import RUNTIME_RESPONSE_BYTES
from workers.pool.runtime_api.http import RequestParser
from workers.pool.runtime_api.server import (
    Invocation,
    Posted,
    RuntimeApi,
    new_trace_id,
)

pytestmark = pytest.mark.anyio

NEXT = "/2018-06-01/runtime/invocation/next"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:f"


class Client:
    """A keep-alive HTTP/1.1 connection to the Runtime API."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def send(self, method: str, path: str, body: bytes = b"", **headers: str) -> None:
        lines = [f"{method} {path} HTTP/1.1", "Host: runtime"]
        lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
        if method == "POST" and "Transfer_Encoding" not in headers:
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await self.writer.drain()

    async def response(self) -> tuple[int, dict[str, str], bytes]:
        with anyio.fail_after(5):
            head = await self.reader.readuntil(b"\r\n\r\n")
            status_line, *header_lines = head.decode().split("\r\n")[:-2]
            headers = dict(line.split(": ", 1) for line in header_lines)
            body = await self.reader.readexactly(int(headers["Content-Length"]))
        return int(status_line.split()[1]), headers, body

    async def request(self, method: str, path: str, body: bytes = b"", **headers: str):
        await self.send(method, path, body, **headers)
        return await self.response()


@pytest.fixture(params=["asyncio", ("asyncio", {"use_uvloop": True})], ids=["asyncio", "uvloop"])
def anyio_backend(request: pytest.FixtureRequest) -> object:
    """Both loops: the worker runs on uvloop, whose transports differ from asyncio's."""
    return request.param


# Connections the running test opened; its `api` fixture closes them.
OPEN_CLIENTS: list[Client] = []


@pytest.fixture
async def api() -> AsyncIterator[RuntimeApi]:
    server = RuntimeApi()
    await server.open("127.0.0.1")
    yield server
    server.close()
    for client in OPEN_CLIENTS:
        client.writer.close()
        with contextlib.suppress(OSError):
            await client.writer.wait_closed()
    OPEN_CLIENTS.clear()


async def connect(api: RuntimeApi) -> Client:
    reader, writer = await asyncio.open_connection("127.0.0.1", api.port)
    OPEN_CLIENTS.append(Client(reader, writer))
    return OPEN_CLIENTS[-1]


def invocation(request_id: str = "req-1", **fields) -> Invocation:
    return Invocation(
        request_id=request_id,
        payload=fields.pop("payload", b'{"hello": "world"}'),
        invoked_arn=ARN,
        timeout_ms=3000,
        **fields,
    )


async def result(invocation: Invocation) -> object:
    with anyio.fail_after(5):
        return await invocation.result


async def test_next_blocks_until_work_then_carries_aws_headers(api):
    client = await connect(api)
    await client.send("GET", NEXT)
    await anyio.sleep(0.05)  # /next is waiting, with nothing to hand out
    context = base64.b64encode(b'{"custom": {"a": 1},\n "env": {}}').decode()
    api.offer(invocation(trace_id="Root=1-abc", client_context=context))
    status, headers, body = await client.response()
    now_ms = time.time() * 1000
    assert status == 200
    assert body == b'{"hello": "world"}'
    assert headers["Lambda-Runtime-Aws-Request-Id"] == "req-1"
    assert now_ms + 2500 < int(headers["Lambda-Runtime-Deadline-Ms"]) <= now_ms + 3000
    assert headers["Lambda-Runtime-Invoked-Function-Arn"] == ARN
    assert headers["Lambda-Runtime-Trace-Id"] == "Root=1-abc"
    assert json.loads(headers["Lambda-Runtime-Client-Context"]) == {"custom": {"a": 1}, "env": {}}
    assert headers["Content-Type"] == "application/json"


async def test_response_and_error_posts_are_accepted_on_one_keep_alive_connection(api):
    client = await connect(api)
    first, second = invocation("one"), invocation("two")
    api.offer(first)
    await client.request("GET", NEXT)
    posted = await client.request("POST", "/2018-06-01/runtime/invocation/one/response", b'"ok"')
    assert posted[:1] == (202,) and posted[2] == b'{"status":"OK"}'
    assert await result(first) == Posted("response", b'"ok"')
    api.offer(second)
    _, headers, _ = await client.request("GET", NEXT)
    assert headers["Lambda-Runtime-Aws-Request-Id"] == "two"
    error = b'{"errorType":"ValueError","errorMessage":"x"}'
    await client.request(
        "POST",
        "/2018-06-01/runtime/invocation/two/error",
        error,
        Lambda_Runtime_Function_Error_Type="Unhandled",
    )
    assert await result(second) == Posted("error", error, "Unhandled")


async def test_init_error_before_the_first_event_answers_it(api):
    client = await connect(api)
    body = b'{"errorType":"Runtime.ImportModuleError","errorMessage":"nope"}'
    status, _, _ = await client.request(
        "POST",
        "/2018-06-01/runtime/init/error",
        body,
        Lambda_Runtime_Function_Error_Type="Runtime.ImportModuleError",
    )
    assert status == 202
    event = invocation()
    api.offer(event)
    assert await result(event) == Posted("init_error", body, "Runtime.ImportModuleError")


async def test_a_post_for_another_request_id_is_refused(api):
    client = await connect(api)
    event = invocation()
    api.offer(event)
    await client.request("GET", NEXT)
    status, _, body = await client.request("POST", "/2018-06-01/runtime/invocation/x/response")
    assert status == 400
    assert json.loads(body)["errorType"] == "InvalidRequestID"
    assert not event.result.done()
    status, _, _ = await client.request("GET", "/2018-06-01/runtime/elsewhere")
    assert status == 404


async def test_chunked_body_after_100_continue(api):
    client = await connect(api)
    event = invocation()
    api.offer(event)
    await client.request("GET", NEXT)
    await client.send(
        "POST",
        "/2018-06-01/runtime/invocation/req-1/response",
        Transfer_Encoding="chunked",
        Expect="100-continue",
    )
    with anyio.fail_after(5):
        assert await client.reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
    client.writer.write(b'4\r\n{"a"\r\n4;ext=1\r\n: 1}\r\n0\r\n\r\n')
    assert (await client.response())[0] == 202
    assert await result(event) == Posted("response", b'{"a": 1}')


async def test_an_oversized_body_is_dropped_and_the_connection_goes_on(api):
    client = await connect(api)
    first, second = invocation("one"), invocation("two")
    api.offer(first)
    await client.request("GET", NEXT)
    huge = b"x" * (RUNTIME_RESPONSE_BYTES + 1)
    status, _, _ = await client.request("POST", "/2018-06-01/runtime/invocation/one/response", huge)
    assert status == 202
    assert await result(first) == Posted("response", None)
    api.offer(second)
    status, headers, _ = await client.request("GET", NEXT)
    assert headers["Lambda-Runtime-Aws-Request-Id"] == "two"


async def test_a_dropped_next_does_not_swallow_the_following_event(api):
    dead = await connect(api)
    await dead.send("GET", NEXT)
    await anyio.sleep(0.05)
    dead.writer.close()  # the runtime died while waiting
    await anyio.sleep(0.05)
    event = invocation()
    api.offer(event)
    assert not event.handed_out_at
    alive = await connect(api)
    _, headers, _ = await alive.request("GET", NEXT)
    assert headers["Lambda-Runtime-Aws-Request-Id"] == "req-1"


async def test_close_ends_a_pending_next(api):
    client = await connect(api)
    await client.send("GET", NEXT)
    await anyio.sleep(0.05)
    api.close()
    with anyio.fail_after(5):
        assert await client.reader.read() == b""
        await api.disconnected()


async def test_a_malformed_request_gets_400_and_the_connection_closes(api):
    client = await connect(api)
    client.writer.write(b"NONSENSE\r\n\r\n")
    status, _, _ = await client.response()
    assert status == 400
    with anyio.fail_after(5):
        assert await client.reader.read() == b""


def test_parser_reads_requests_split_anywhere():
    raw = (
        b"POST /a HTTP/1.1\r\nContent-Length: 3\r\n"
        b"Lambda-Runtime-Function-Error-Type: E.T\r\n\r\nabc"
        b"GET /b HTTP/1.0\r\n\r\n"
    )
    parser = RequestParser(max_body=100)
    requests = []
    for index in range(len(raw)):
        requests += parser.feed(raw[index : index + 1])
    assert [(r.method, r.target, r.body, r.error_type, r.close) for r in requests] == [
        (b"POST", b"/a", b"abc", "E.T", False),
        (b"GET", b"/b", b"", "", True),
    ]


def test_a_new_trace_id_has_the_x_ray_shape():
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Sampled=0", new_trace_id())
