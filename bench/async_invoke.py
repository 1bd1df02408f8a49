"""Asynchronous invocation benchmark: how fast Event invokes are accepted, and how long the
async worker takes to run them all.

    python -m bench.async_invoke [--events 10000] [--clients 16] [--runs 3] [--executor process]

Starts its own `tarn up`, creates a Python function whose only work is appending its event's
number to a file, and sends `--events` Event invokes over plain keep-alive HTTP (no SigV4
signing, which would measure the client). Each run has two bursts:

- live: the worker runs events as they arrive. Accept rate (202s per second) and drain (from
  the first send until every event's line is in the file: each event ran at least once).
- backlog: the async worker is stopped (SIGSTOP) while the API accepts alone, then resumed
  and timed until the whole backlog has run.

The first run includes the cold starts of the environments the burst scales to. Writes
bench/results/async_invoke-<executor>.json. This machine is noisy: read medians.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from bench.invoke import Client, create_function, run_clients
from bench.stack import RunningStack, running_stack

RESULTS = Path(__file__).parent / "results"
APPENDER = """
def handler(event, context):
    with open(event["path"], "a") as out:
        out.write(f"{event['n']}\\n")
"""
DRAIN_TIMEOUT_S = 600


def send_burst(url: str, name: str, path: Path, events: int, clients: int) -> None:
    """`events` Event invokes from `clients` threads, each with its own connection."""
    target = f"/2015-03-31/functions/{name}/invocations"

    def drive(first: int) -> None:
        client = Client(url)
        for n in range(first, events, clients):
            payload = json.dumps({"path": str(path), "n": n}).encode()
            client.connection.request(
                "POST", target, body=payload, headers={"X-Amz-Invocation-Type": "Event"}
            )
            response = client.connection.getresponse()
            response.read()
            if response.status != 202:
                raise RuntimeError(f"Event invoke answered {response.status}")

    run_clients(drive, clients)


def ran(path: Path) -> int:
    """How many distinct events have left their line in `path`."""
    return len(set(path.read_text().split())) if path.exists() else 0


def wait_ran(path: Path, events: int) -> float:
    """Wait until every event has run; the perf_counter time it was seen."""
    deadline = time.perf_counter() + DRAIN_TIMEOUT_S
    while ran(path) < events:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"only {ran(path)} of {events} events ran")
        time.sleep(0.05)
    return time.perf_counter()


def live_run(url: str, name: str, folder: Path, events: int, clients: int) -> dict[str, float]:
    """The burst while the worker runs events as they come: both compete for the CPU."""
    path = folder / f"ran-{uuid.uuid4().hex[:8]}.txt"
    started = time.perf_counter()
    send_burst(url, name, path, events, clients)
    accepted = time.perf_counter()
    drained = wait_ran(path, events)
    return {
        "accept_per_s": round(events / (accepted - started), 1),
        "drain_s": round(drained - started, 2),
        "drain_after_accept_s": round(drained - accepted, 2),
    }


def backlog_run(
    url: str, name: str, folder: Path, events: int, clients: int, worker: int
) -> dict[str, float]:
    """The burst with the async worker stopped (SIGSTOP): the API alone accepts; then the
    worker drains the whole backlog."""
    path = folder / f"ran-{uuid.uuid4().hex[:8]}.txt"
    os.kill(worker, signal.SIGSTOP)
    try:
        started = time.perf_counter()
        send_burst(url, name, path, events, clients)
        accepted = time.perf_counter()
    finally:
        os.kill(worker, signal.SIGCONT)
    resumed = time.perf_counter()
    drained = wait_ran(path, events)
    return {
        "accept_only_per_s": round(events / (accepted - started), 1),
        "backlog_drain_s": round(drained - resumed, 2),
        "backlog_runs_per_s": round(events / (drained - resumed), 1),
    }


def async_worker(stack: RunningStack) -> int:
    """The pid of the stack's async worker, a child of `tarn up`."""
    found = subprocess.run(
        ["pgrep", "-P", str(stack.process.pid), "-f", "workers async"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if len(found) != 1:
        raise RuntimeError(f"expected one async worker, found {found}")
    return int(found[0])


def medians(runs: list[dict[str, float]]) -> dict[str, float]:
    return {f"{k}_median": statistics.median(r[k] for r in runs) for k in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--executor", default="process")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp, running_stack("--executor", args.executor) as stack:
        client, folder = Client(stack.url), Path(tmp)
        name = f"async-{uuid.uuid4().hex[:8]}"
        create_function(client, name, APPENDER)
        worker = async_worker(stack)
        live, backlog = [], []
        for number in range(args.runs):
            live.append(live_run(stack.url, name, folder, args.events, args.clients))
            backlog.append(backlog_run(stack.url, name, folder, args.events, args.clients, worker))
            print(f"run {number + 1}: {json.dumps(live[-1] | backlog[-1])}", flush=True)
    result = {
        "executor": args.executor,
        "events": args.events,
        "clients": args.clients,
        **medians(live),
        **medians(backlog),
        "live_runs": live,
        "backlog_runs": backlog,
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"async_invoke-{args.executor}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
