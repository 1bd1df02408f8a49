"""The container health checks compose.yaml runs: `python -m services.cli.probe ROLE` (api,
companion or worker) exits 0 when that part is alive in this container. Light on purpose (no
`tarn` start-up, no event loop): the engine runs it every few seconds in every container.

- api, companion: their port answers HTTP, whatever the status (`/_tarn/health` answers 503 until
  the whole stack is ready, which is not this container's own health).
- worker: a worker process of this host (container) beat into Redis lately
  (bus/transport/heartbeats.py).
"""

from __future__ import annotations

import http.client
import socket
import sys
import time

from redis import Redis

from bus.keys import Keys
from bus.settings import Settings
from bus.transport.heartbeats import STALE_AFTER_MS

PORTS = {"api": 4566, "companion": 4567}  # as compose.yaml starts them
TIMEOUT_S = 3


def http_answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S)
    try:
        connection.request("GET", "/_tarn/health" if port == PORTS["api"] else "/")
        connection.getresponse().read()
    except OSError:
        return False
    finally:
        connection.close()
    return True


def worker_beats(settings: Settings) -> bool:
    """Whether a consumer named after this host (`<host>-<role>-<pid>`, workers/consumers.py)
    or TARN_CONSUMER beat within STALE_AFTER_MS."""
    redis = Redis.from_url(settings.redis_url, socket_timeout=TIMEOUT_S)
    since = int(time.time() * 1000) - STALE_AFTER_MS
    try:
        members = redis.zrangebyscore(Keys(settings.key_prefix).heartbeats, since, "+inf")
    finally:
        redis.close()
    host = f"{socket.gethostname()}-"
    consumers = [member.decode().partition(":")[2] for member in members]
    return any(c.startswith(host) or c == settings.consumer for c in consumers)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in (*PORTS, "worker"):
        print("usage: python -m services.cli.probe api|companion|worker", file=sys.stderr)
        return 2
    if argv[0] in PORTS:
        return 0 if http_answers(PORTS[argv[0]]) else 1
    try:
        return 0 if worker_beats(Settings.from_env()) else 1
    except Exception as exc:  # Redis unreachable, bad settings: unhealthy, saying why
        print(f"probe: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
