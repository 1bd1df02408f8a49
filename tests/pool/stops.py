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


def left_to_the_collector(rounds: int, run_round: Callable[[int], None]) -> list[str]:
    """The ResourceWarnings (unclosed sockets, transports) `rounds` runs of `run_round` leave,
    each collected right after its round."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        for index in range(rounds):
            run_round(index)
            gc.collect()
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
