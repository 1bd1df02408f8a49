"""A Runtime API closed while its runtime keeps connecting leaves no socket to the garbage
collector, even when the event loop ends right after: every connection is aborted, and one
accepted just before is refused, before the loop's end (CI once saw an "unclosed transport" of
a Runtime API connection in the pool tests; this did not reproduce it, and guards the close)."""

from __future__ import annotations

import threading

import anyio

from tests.pool.stops import connect_until, left_to_the_collector
from workers.pool.runtime_api.server import RuntimeApi

STOPS = 40
NEXT = b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nhost: localhost\r\n\r\n"


async def serve_then_close(after_s: float) -> None:
    api = RuntimeApi()
    port = await api.open("127.0.0.1")
    stop = threading.Event()
    clients = threading.Thread(target=connect_until, args=(port, NEXT, stop))
    clients.start()
    try:
        await anyio.sleep(after_s)
    finally:
        await api.aclose()
        stop.set()
        clients.join()


def test_a_close_amid_connections_leaves_no_socket_to_the_garbage_collector() -> None:
    def one_close(after_s: float) -> None:
        anyio.run(serve_then_close, after_s)

    assert left_to_the_collector(STOPS, one_close) == []
