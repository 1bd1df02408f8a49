"""Tarn against its floor, and Tarn's own figures, in one go.

    python -m bench.floor [--floor ../shared/floor] [--rounds 3] [--executor process]
                          [--startup-runs 3] [--event-seconds 5] [--skip-own]

Runs the floor's `compare.py` on this checkout (see its README: both stacks measured in turns,
ratios are what to read), then, unless --skip-own, `tarn up` to healthy with memory at rest
(bench.startup) and the Event accept rate: 16 keep-alive clients sending Event invokes for
--event-seconds with the floor's own load generator (the one its throughput row uses), while
the stack also runs what it accepts; its ratio is to the floor's 16-client throughput of the
same run. Prints compare's table as it goes and writes everything, with the issue's targets
and whether each is met, to bench/results/floor-<executor>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from bench import startup
from bench.invoke import Client, create_function
from bench.stack import running_stack

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
HEADER = "tarn     floor    ratio"
CELLS = 29  # compare.py's columns: tarn 10, floor 10, ratio 9 characters, right-aligned
# Issue 18's targets: (figure, at most or at least, bound).
TARGETS = [
    ("warm sequential p50, ms", "ratio_max", 1.15),
    ("16-client throughput, invokes/s", "ratio_min", 0.90),
    ("CPU per invoke, sequential, ms", "ratio_max", 1.2),
    ("tarn up to healthy, s", "max", 1.0),
    ("memory at rest, MB", "max", 250.0),
    ("async accept / floor throughput", "min", 0.90),
]
EVENT_HEADER = "X-Amz-Invocation-Type: Event"


def run_compare(floor: Path, args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """compare.py's table as {row: {tarn, floor, ratio}}, and its whole output."""
    argv = [sys.executable, str(floor / "compare.py"), "--project", str(ROOT)]
    argv += ["--rounds", str(args.rounds), "--executor", args.executor]
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    lines = []
    with subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            lines.append(line.rstrip("\n"))
    if process.returncode == 2:
        raise SystemExit("compare.py: a stack did not start (its output is above)")
    return parse_table(lines), "\n".join(lines)


def parse_table(lines: list[str]) -> dict[str, Any]:
    table: dict[str, Any] = {}
    rows = iter(lines)
    for line in rows:
        if line.strip() == HEADER:
            break
    row: dict[str, Any] = {}
    for line in rows:
        if not line.strip():
            break
        label, cells = line[:-CELLS].strip(), line[-CELLS:]
        tarn, floor, ratio = cells[:10].strip(), cells[10:20].strip(), cells[20:].strip()
        figures = {"tarn": _number(tarn), "floor": _number(floor), "ratio": _number(ratio)}
        if line.startswith(" "):  # one process's share of the row above
            row.setdefault("processes", {})[label] = figures
        else:
            row = table[label] = figures
    return table


def _number(cell: str) -> float | None:
    try:
        return float(cell.rstrip("x"))
    except ValueError:
        return None


def own_figures(args: argparse.Namespace) -> dict[str, Any]:
    """`tarn up` to healthy and memory at rest (medians), and the Event accept rate."""
    runs = [startup.one_run(args.executor) for _ in range(args.startup_runs)]
    memory = [sum(m.values()) for _, m in runs]
    figures: dict[str, Any] = {
        "tarn up to healthy, s": round(statistics.median(r for r, _ in runs), 3),
        "memory at rest, MB": round(statistics.median(memory), 1),
        "memory at rest by process, MB": runs[len(runs) // 2][1],
    }
    if args.event_seconds:
        figures["async accept, Event invokes/s"] = event_accept_rate(args)
    return figures


def event_accept_rate(args: argparse.Namespace) -> float:
    """Event invokes answered 202 per second, 16 clients, by the floor's load generator."""
    sys.path.insert(0, str(args.floor))
    from load import python_load  # the floor's, as its throughput row measures

    with running_stack("--executor", args.executor) as stack:
        name = f"event-{uuid.uuid4().hex[:8]}"
        create_function(Client(stack.url), name)
        port = int(stack.url.rsplit(":", 1)[1])
        # Its request line is "POST {path} HTTP/1.1": the header rides in after the path.
        path = f"/2015-03-31/functions/{name}/invocations HTTP/1.1\r\n{EVENT_HEADER}\r\nX-Pad: x"
        python_load(port, path, 16, 1_000_000, 1)  # warm-up
        result = python_load(port, path, 16, 1_000_000, args.event_seconds)
    return round(float(result["rps"]), 1)


def verdicts(table: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    out = {}
    floor_rps = (table.get("16-client throughput, invokes/s") or {}).get("floor")
    accepted = own.get("async accept, Event invokes/s")
    if floor_rps and accepted:
        own = own | {"async accept / floor throughput": round(accepted / floor_rps, 2)}
    for figure, kind, bound in TARGETS:
        if kind.startswith("ratio"):
            value = (table.get(figure) or {}).get("ratio")
        else:
            value = own.get(figure)
        if value is None:
            continue
        met = value <= bound if kind.endswith("max") else value >= bound
        out[figure] = {"value": value, kind: bound, "met": met}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--floor", type=Path, default=ROOT.parent / "shared" / "floor")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--executor", default="process")
    parser.add_argument("--startup-runs", type=int, default=3)
    parser.add_argument("--event-seconds", type=float, default=5.0, help="0: no Event run")
    parser.add_argument("--skip-own", action="store_true", help="compare.py only")
    args = parser.parse_args()
    if not (args.floor / "compare.py").exists():
        raise SystemExit(f"no compare.py in {args.floor}: pass --floor DIR")
    started = time.time()
    table, output = run_compare(args.floor, args)
    own = {} if args.skip_own else own_figures(args)
    result = {
        "executor": args.executor,
        "rounds": args.rounds,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "compare": table,
        "compare_summary": output.splitlines()[-1] if output else "",
        "own": own,
        "targets": verdicts(table, own),
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"floor-{args.executor}.json"
    path.write_text(json.dumps(result, indent=2))
    print(json.dumps({"own": own, "targets": result["targets"]}, indent=2))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
