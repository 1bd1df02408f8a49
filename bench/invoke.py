"""Invoke benchmark: warm latency, throughput under 16 clients, and cold start, end to end.

    python -m bench.invoke [--calls 2000] [--clients 16] [--seconds 10] [--executor process]

Starts its own `tarn up`, creates a Python echo function, and drives Invoke over plain
keep-alive HTTP (no SigV4 signing, which would measure the client, not Tarn). Writes
bench/results/invoke-<executor>.json. This machine is noisy: read medians and ratios.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import statistics
import threading
import time
import urllib.parse
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

from bench.stack import running_stack

RESULTS = Path(__file__).parent / "results"
ECHO = "def handler(event, context):\n    return event\n"
PAYLOAD = json.dumps({"hello": "tarn", "n": 1}).encode()


class Client:
    """One keep-alive HTTP connection to the API."""

    def __init__(self, url: str) -> None:
        parsed = urllib.parse.urlparse(url)
        self.connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=120)

    def call(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        self.connection.request(
            method, path, body=body, headers={"Content-Type": "application/json"}
        )
        response = self.connection.getresponse()
        return response.status, response.read()

    def invoke(self, name: str) -> None:
        status, body = self.call("POST", f"/2015-03-31/functions/{name}/invocations", PAYLOAD)
        if status != 200 or body != PAYLOAD:
            raise RuntimeError(f"invoke answered {status}: {body[:200]!r}")


def create_function(client: Client, name: str, code: str = ECHO) -> None:
    """A Python function whose `app.py` is `code`, once it is Active."""
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("app.py", code)
    request = {
        "FunctionName": name,
        "Runtime": "python3.12",
        "Handler": "app.handler",
        "Role": "arn:aws:iam::000000000000:role/bench",
        "Code": {"ZipFile": base64.b64encode(package.getvalue()).decode()},
    }
    status, body = client.call("POST", "/2015-03-31/functions", json.dumps(request).encode())
    if status != 201:
        raise RuntimeError(f"create answered {status}: {body!r}")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        _, body = client.call("GET", f"/2015-03-31/functions/{name}/configuration")
        if json.loads(body)["State"] == "Active":
            return
        time.sleep(0.01)
    raise RuntimeError(f"{name} did not become Active")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def cold_starts(client: Client, count: int) -> list[float]:
    """Time to the first result of functions that have never run (Active already)."""
    timings = []
    for _ in range(count):
        name = f"cold-{uuid.uuid4().hex[:8]}"
        create_function(client, name)
        started = time.perf_counter()
        client.invoke(name)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def sequential(client: Client, name: str, calls: int) -> list[float]:
    timings = []
    for _ in range(calls):
        started = time.perf_counter()
        client.invoke(name)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def throughput(url: str, name: str, clients: int, seconds: float) -> float:
    counts = [0] * clients
    stop = time.monotonic() + seconds

    def drive(index: int) -> None:
        client = Client(url)
        while time.monotonic() < stop:
            client.invoke(name)
            counts[index] += 1

    started = time.monotonic()
    run_clients(drive, clients)
    return sum(counts) / (time.monotonic() - started)


def run_clients(drive: Callable[[int], None], clients: int) -> None:
    """Run `drive(0)` .. `drive(clients - 1)` in threads at once; raise if any failed."""
    errors: list[BaseException] = []

    def guarded(index: int) -> None:
        try:
            drive(index)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} clients failed; first: {errors[0]!r}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--cold", type=int, default=10)
    parser.add_argument("--executor", default="process")
    args = parser.parse_args()
    with running_stack("--executor", args.executor) as stack:
        client = Client(stack.url)
        cold = cold_starts(client, args.cold)
        name = f"warm-{uuid.uuid4().hex[:8]}"
        create_function(client, name)
        for _ in range(200):  # warm up the environment, the connection and the caches
            client.invoke(name)
        warm = sequential(client, name, args.calls)
        for _ in range(args.clients):  # one warm environment per client before timing
            client.invoke(name)
        rate = throughput(stack.url, name, args.clients, args.seconds)
    result = {
        "executor": args.executor,
        "warm_sequential_calls": args.calls,
        "warm_p50_ms": round(statistics.median(warm), 3),
        "warm_p99_ms": round(percentile(warm, 0.99), 3),
        "throughput_clients": args.clients,
        "throughput_invokes_per_s": round(rate, 1),
        "cold_start_ms_median": round(statistics.median(cold), 1),
        "cold_start_ms_max": round(max(cold), 1),
        "stack_ready_s": round(stack.ready_s, 3),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"invoke-{args.executor}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
