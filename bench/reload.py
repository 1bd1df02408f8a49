"""Hot reload benchmark: from a file write to the first invoke that answers with the new code.

    python -m bench.reload [--rounds 30] [--executor process]

A real `tarn up`; a Python function whose code is a folder (the hot-reload bucket); each
round rewrites its handler with a new value and invokes back to back, through boto3, until
the answer carries it. Writes bench/results/reload-<executor>.json. Target (issue 17): under
500 ms with the process executor.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from bench.stack import running_stack

RESULTS = Path(__file__).parent / "results"
APP = "VALUE = {value!r}\n\ndef handler(event, context):\n    return VALUE\n"
ROLE = "arn:aws:iam::000000000000:role/lambda-role"
GIVE_UP_S = 10.0


def client(url: str) -> Any:
    return boto3.client(
        "lambda",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )


def value(lam: Any) -> str:
    return str(json.loads(lam.invoke(FunctionName="reload")["Payload"].read()))


def one_round(lam: Any, code: Path, value_now: str) -> tuple[float, int]:
    """Seconds from the write to the first answer with `value_now`, and the stale answers."""
    text = APP.format(value=value_now)
    started = time.perf_counter()
    (code / "app.py").write_text(text)
    stale = 0
    while value(lam) != value_now:
        stale += 1
        if time.perf_counter() - started > GIVE_UP_S:
            raise RuntimeError(f"no reload within {GIVE_UP_S} s")
    return time.perf_counter() - started, stale


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--executor", default="process")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, running_stack("--executor", args.executor) as s:
        code = Path(folder)
        (code / "app.py").write_text(APP.format(value="start"))
        lam = client(s.url)
        lam.create_function(
            FunctionName="reload",
            Runtime="python3.12",
            Handler="app.handler",
            Role=ROLE,
            Code={"S3Bucket": "hot-reload", "S3Key": str(code)},
        )
        lam.get_waiter("function_active_v2").wait(FunctionName="reload")
        value(lam)  # warm
        rounds = []
        for n in range(args.rounds):
            rounds.append(one_round(lam, code, f"round {n}"))
            time.sleep(0.2)  # the next write is a new edit, not part of this burst
    latencies = sorted(r[0] * 1000 for r in rounds)
    result = {
        "executor": args.executor,
        "rounds": args.rounds,
        "write_to_new_code_ms_median": round(statistics.median(latencies), 1),
        "write_to_new_code_ms_p90": round(latencies[int(len(latencies) * 0.9) - 1], 1),
        "write_to_new_code_ms_min": round(latencies[0], 1),
        "write_to_new_code_ms_max": round(latencies[-1], 1),
        "stale_answers_median": statistics.median(r[1] for r in rounds),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"reload-{args.executor}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
