"""Startup benchmark: time from `tarn up` to healthy, and each process's memory at rest.

    python -m bench.startup [--runs 5] [--executor auto]

Writes bench/results/startup-<executor>.json. Medians, because this 2-core machine is noisy.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from pathlib import Path

from bench.stack import running_stack

RESULTS = Path(__file__).parent / "results"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def role_of(command: str) -> str:
    if "redis-server" in command:
        return "redis"
    if "moto" in command or "services.companion" in command:
        return "companion"
    if "services.cli.server" in command:
        return "api"
    return "+".join(command.split("-m workers ", 1)[-1].split())  # python -m workers ROLE...


def children(pid: int) -> dict[str, int]:
    found = subprocess.run(["pgrep", "-P", str(pid), "-a"], capture_output=True, text=True)
    named = {}
    for line in found.stdout.splitlines():
        child, command = line.split(" ", 1)
        named[role_of(command)] = int(child)
    return named


def one_run(executor: str) -> tuple[float, dict[str, float]]:
    with running_stack("--executor", executor) as stack:
        time.sleep(2)  # at rest
        memory = {role: rss_mb(pid) for role, pid in children(stack.process.pid).items()}
        return stack.ready_s, memory


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--executor", default="auto")
    args = parser.parse_args()
    runs = [one_run(args.executor) for _ in range(args.runs)]
    ready = [r[0] for r in runs]
    roles = runs[0][1].keys()
    result = {
        "executor": args.executor,
        "runs": args.runs,
        "ready_s_median": round(statistics.median(ready), 3),
        "ready_s_min": round(min(ready), 3),
        "ready_s_max": round(max(ready), 3),
        "rss_mb_median": {r: round(statistics.median(m[1][r] for m in runs), 1) for r in roles},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"startup-{args.executor}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
