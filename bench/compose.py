"""The compose stack against `tarn up`: image size, time from `compose up` to healthy, and the
warm invoke latency through each (process executor in both, one Python echo function).

    python -m bench.compose [--calls 500]

Builds Tarn's image on this machine's locally made base (tests/compose/images.py: no registry
here) and runs the repository's compose.yaml under a throwaway project, torn down at the end.
Writes bench/results/compose.json. This machine is noisy: read medians and ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from bench.invoke import RESULTS, Client, create_function, percentile, sequential
from bench.stack import free_port, running_stack
from tests.compose.images import ensure_image, ensure_redis
from tests.compose.stack import ComposeStack, compose_command, compose_env


def image_size_mb(image: str) -> float:
    shown = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Size}}", image],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return int(shown.stdout) / 1e6


def latencies(url: str, calls: int) -> dict[str, float]:
    client = Client(url)
    name = f"bench-{uuid.uuid4().hex[:8]}"
    create_function(client, name)
    sequential(client, name, 20)  # warm
    timings = sequential(client, name, calls)
    return {
        "p50_ms": round(statistics.median(timings), 2),
        "p90_ms": round(percentile(timings, 0.9), 2),
    }


def compose_run(calls: int, image: str, redis_image: str) -> dict[str, float]:
    command = compose_command()
    if command is None:
        raise SystemExit("bench.compose needs `docker compose` or `docker-compose`")
    project, port = f"tarnbench{uuid.uuid4().hex[:8]}", free_port()
    with tempfile.TemporaryDirectory() as folder:
        stack = ComposeStack(
            command,
            project,
            port,
            Path(folder),
            compose_env(project, port, image, redis_image),
            settings={"TARN_EXECUTOR": "process"},
        )
        try:
            started = time.monotonic()
            stack.compose("up", "-d", "--no-build")
            stack.wait_ready(300)
            ready_s = time.monotonic() - started
            return {"up_to_healthy_s": round(ready_s, 1), **latencies(stack.url, calls)}
        finally:
            stack.destroy()


def tarn_up_run(calls: int) -> dict[str, float]:
    with running_stack("--executor", "process") as stack:
        return {"up_to_healthy_s": round(stack.ready_s, 1), **latencies(stack.url, calls)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    image, redis_image = ensure_image(), ensure_redis()
    results = {
        "image": image,
        "image_size_mb": round(image_size_mb(image), 1),
        "compose": compose_run(args.calls, image, redis_image),
        "tarn_up": tarn_up_run(args.calls),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "compose.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
