"""For the tests that stop a server amid connections: clients that keep connecting, and a count
of the sockets left to the garbage collector."""

from __future__ import annotations

import gc
import socket
import threading
import warnings
from collections.abc import Callable


def connect_until(port: int, request: bytes, stop: threading.Event) -> None:
    """Open connections and send `request` on each, as fast as they go, until `stop`."""
    while not stop.is_set():
        client = socket.socket()
        client.settimeout(0.2)
        try:
            client.connect(("127.0.0.1", port))
            client.sendall(request)
        except OSError:
            pass
        finally:
            client.close()


def left_to_the_collector(rounds: int, run_round: Callable[[float], None]) -> list[str]:
    """The ResourceWarnings (unclosed sockets, transports) `rounds` runs of `run_round` leave,
    each collected right after its round; each round is given how long to serve before its
    stop, 2 to 11 ms in turn, so that stops land at every point of a connection."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        for index in range(rounds):
            run_round(0.002 + (index % 10) * 0.001)
            gc.collect()
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
