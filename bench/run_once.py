"""`tarn run` benchmark: the wall time of a one-shot run of a Python hello world (as hyperfine
would time it: the whole command, interpreter start to exit), and the latency of warm invokes
of a stay-open function, and how soon `--watch` answers with code just written.

    python -m bench.run_once [--runs 10] [--invokes 200] [--reloads 5] [--executor docker]

Writes bench/results/run_once-<executor>.json. Medians, because this 2-core machine is noisy.
Docker runs need the runtime image (TARN_IMAGE_OVERRIDES may name a stand-in).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parents[1]
HELLO = "def handler(event, context):\n    return {'hello': event.get('name', 'world')}\n"
WARMUP = 1


def tarn(*args: str) -> list[str]:
    return [sys.executable, "-m", "services.cli", *args]


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_LAMBDA_")}
    return env | {"PYTHONPATH": str(ROOT)}


def one_shot(folder: Path, runs: int, runtime: list[str]) -> tuple[list[float], list[float]]:
    """Wall seconds of `tarn run app.handler '{}'`, after a warm-up run, and the CPU seconds
    (user and system, the runtime's process included) each took: on a busy machine the wall
    time says more about the neighbours than about Tarn."""
    timings, cpu = [], []
    for attempt in range(runs + WARMUP):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(
            tarn("run", *runtime, "app.handler", '{"name": "bench"}'),
            cwd=folder,
            env=environment(),
            capture_output=True,
            timeout=120,
        )
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise SystemExit(f"tarn run failed: {done.stderr.decode()[-2000:]}")
        if attempt >= WARMUP:
            timings.append(elapsed)
            cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return timings, cpu


def stay_open(
    folder: Path, invokes: int, runtime: list[str], reloads: int
) -> tuple[list[float], list[float]]:
    """Seconds per warm invoke of a stay-open function (one client, keep-alive), and from a
    file write to the first answer of the new code (`--watch`)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        tarn("run", "--watch", "--port", str(port), *runtime, "app.handler"),
        cwd=folder,
        env=environment(),
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/2015-03-31/functions/bench/invocations"
    try:
        with httpx.Client(timeout=60) as client:
            _wait_until_serving(client, url, process)
            timings = []
            for _ in range(invokes):
                started = time.perf_counter()
                client.post(url, content=b'{"name": "bench"}').raise_for_status()
                timings.append(time.perf_counter() - started)
            return timings, [_reload(client, url, folder, n) for n in range(reloads)]
    finally:
        process.terminate()
        process.wait(timeout=20)


def _reload(client: httpx.Client, url: str, folder: Path, n: int) -> float:
    """Seconds from writing version `n` of the code to the first invoke that answers with it."""
    time.sleep(0.5)  # apart from the previous burst
    wanted = f"v{n}"
    started = time.perf_counter()
    (folder / "app.py").write_text(HELLO.replace("event.get('name', 'world')", repr(wanted)))
    deadline = started + 30
    while time.perf_counter() < deadline:
        if client.post(url, content=b"{}").json() == {"hello": wanted}:
            return time.perf_counter() - started
        time.sleep(0.005)
    raise SystemExit("the new code did not answer within 30 s")


def _wait_until_serving(client: httpx.Client, url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            client.post(url, content=b"{}").raise_for_status()  # also the cold start
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit("the stay-open function did not answer within 60 s")


def summary(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
        "min_ms": round(ordered[0] * 1000, 2),
        "p90_ms": round(ordered[int(len(ordered) * 0.9) - 1] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--invokes", type=int, default=200)
    parser.add_argument("--reloads", type=int, default=5)
    parser.add_argument("--executor", default="process", choices=["process", "docker"])
    parser.add_argument("--runtime", default="", help="e.g. python3.12 (default: guessed)")
    args = parser.parse_args()
    runtime = ["--executor", args.executor] + (["--runtime", args.runtime] if args.runtime else [])
    with tempfile.TemporaryDirectory(prefix="tarn-bench-run-") as scratch:
        folder = Path(scratch)
        (folder / "app.py").write_text(HELLO)
        wall, cpu = one_shot(folder, args.runs, runtime)
        warm, reloads = stay_open(folder, args.invokes, runtime, args.reloads)
        result = {
            "executor": args.executor,
            "one_shot_wall": summary(wall),
            "one_shot_cpu": summary(cpu),
            "stay_open_warm_invoke": summary(warm),
            "watch_reload": summary(reloads),
            "runs": args.runs,
            "invokes": args.invokes,
            "load_average": os.getloadavg()[0],
        }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"run_once-{args.executor}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
