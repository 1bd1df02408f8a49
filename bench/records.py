"""What invocation records and AWS/Lambda metrics cost a warm invoke.

    python -m bench.records [--calls 1500] [--rounds 3] [--writes 20000]

1. End to end: the same warm sequential invokes on a stack with records (and metrics) on and
   on one with them off (TARN_INVOCATION_RECORDS=0), in alternating rounds, with the CPU time
   (user and system) every process of the stack used meanwhile, read from /proc: Redis, the
   API, the workers, the companion. On a busy shared machine this is noisy.
2. The added work alone: the pool's reply round trip (the reply XADD, with the slot release
   before it) with and without the record in the same pipeline, on a private redis-server:
   the pool process's CPU and redis-server's, per invocation; and the metrics publisher's
   decoding and aggregating of one record. Steadier than (1).
Writes bench/results/records.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import anyio
from redis.asyncio import Redis

from bench.invoke import RESULTS, Client, create_function, sequential
from bench.stack import running_stack
from bus.invocation_records import RECORDS, InvocationRecorder, invocation_record, now_ms
from bus.keys import Keys
from bus.messages import InvocationCompleted, InvokeFunction
from bus.records import FunctionVersion
from bus.transport.replies import send_reply
from workers.metrics import Batch, query_parameters

TICKS_S = os.sysconf("SC_CLK_TCK")
REPORT = (
    "END RequestId: x\nREPORT RequestId: x\tDuration: 0.71 ms\tBilled Duration: 1 ms\t"
    "Memory Size: 128 MB\tMax Memory Used: 14 MB\t"
)


def descendants(root: int) -> list[int]:
    """`root` and every process under it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def cpu_s(pids: list[int]) -> float:
    """User and system CPU seconds the processes `pids` used so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS_S


def one_round(records: bool, calls: int) -> dict[str, float]:
    os.environ["TARN_INVOCATION_RECORDS"] = "10000" if records else "0"
    with running_stack("--executor", "process") as stack:
        client = Client(stack.url)
        name = f"warm-{uuid.uuid4().hex[:8]}"
        create_function(client, name)
        for _ in range(200):
            client.invoke(name)
        time.sleep(1.0)  # let start-up work settle
        pids = descendants(stack.process.pid)
        before, started = cpu_s(pids), time.perf_counter()
        timings = sequential(client, name, calls)
        elapsed = time.perf_counter() - started
        used = cpu_s(pids) - before
    return {
        "cpu_ms_per_invoke": used / calls * 1000,
        "p50_ms": statistics.median(timings),
        "invokes_per_s": calls / elapsed,
    }


def _function() -> FunctionVersion:
    return FunctionVersion(
        name="bench",
        arn="arn:aws:lambda:us-east-1:000000000000:function:bench",
        runtime="python3.12",
        handler="app.handler",
        code_sha256_hex="0" * 64,
        revision_id=str(uuid.uuid4()),
        last_modified="2024-01-01T00:00:00.000+0000",
        state="Active",
    )


async def _reply_round_trips(redis_url: str, writes: int, records: bool) -> tuple[float, float]:
    """CPU seconds of this process and of redis-server (pid from INFO) for `writes` replies."""
    redis = Redis.from_url(redis_url)
    keys = Keys(f"bench-{uuid.uuid4().hex[:6]}")
    recorder = InvocationRecorder(keys, 10_000 if records else 0)
    inbox = keys.replies("bench")
    await redis.xadd(inbox, {b"opened": b"1"})
    server = [int((await redis.info("server"))["process_id"])]
    function, payload = _function(), json.dumps({"hello": "tarn", "n": 1}).encode()
    log = (f"START RequestId: x Version: $LATEST\n{REPORT}\n").encode()
    before, server_before = time.process_time(), cpu_s(server)
    for _ in range(writes):
        request_id = str(uuid.uuid4())
        command = InvokeFunction(
            request_id=request_id,
            function=function,
            payload=payload,
            reply_to=inbox,
            invoked_arn=function.arn,
        )
        reply = InvocationCompleted(
            request_id=request_id, payload=payload, executed_version="$LATEST"
        )
        recorder.ran(request_id, log)

        def release(pipe: Any, command: InvokeFunction = command, reply: Any = reply) -> None:
            pipe.zrem(keys.unreserved_in_flight, command.request_id)
            recorder.add(pipe, command, reply)

        await send_reply(redis, inbox, reply, release)
    used = time.process_time() - before, cpu_s(server) - server_before
    await redis.aclose()
    return used


def added_work(writes: int) -> dict[str, float]:
    """Per invocation, the pool's and Redis's CPU microseconds that the record adds."""
    with tempfile.TemporaryDirectory() as folder:
        sock = Path(folder) / "redis.sock"
        server = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", str(sock), "--save", ""],
            stdout=subprocess.DEVNULL,
        )
        try:
            while not sock.exists():
                time.sleep(0.01)
            url = f"unix://{sock}"
            run = lambda on: anyio.run(_reply_round_trips, url, writes, on)  # noqa: E731
            run(True)  # warm up
            off_pool, off_redis = run(False)
            on_pool, on_redis = run(True)
        finally:
            server.terminate()
            server.wait(timeout=10)
    return {
        "pool_us_per_invoke": round((on_pool - off_pool) / writes * 1e6, 1),
        "redis_us_per_invoke": round((on_redis - off_redis) / writes * 1e6, 1),
    }


def metrics_work(count: int = 10_000) -> float:
    """CPU microseconds per record of the metrics publisher's own work: decode and aggregate
    (its Redis reads are on redis-server's side, as the XADD is)."""
    function, payload = _function(), json.dumps({"hello": "tarn", "n": 1}).encode()
    log = (f"START RequestId: x Version: $LATEST\n{REPORT}\n").encode()
    encoded = []
    for n in range(count):
        command = InvokeFunction(
            request_id=str(n),
            function=function,
            payload=payload,
            reply_to="r",
            invoked_arn=function.arn,
        )
        reply = InvocationCompleted(request_id=str(n), payload=payload, executed_version="1")
        encoded.append(RECORDS.encode(invocation_record(command, reply, log, now_ms() + n)))
    started = time.process_time()
    batch = Batch()
    for raw in encoded:
        batch.add(RECORDS.decode(raw))
    query_parameters(batch.metric_data())
    return round((time.process_time() - started) / count * 1e6, 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--writes", type=int, default=20_000)
    args = parser.parse_args()
    added = added_work(args.writes)
    added["metrics_us_per_invoke"] = metrics_work()
    runs: dict[str, list[dict[str, float]]] = {"on": [], "off": []}
    for _ in range(args.rounds):
        for state in ("on", "off"):
            runs[state].append(one_round(state == "on", args.calls))
    medians = {
        state: {key: round(statistics.median(r[key] for r in results), 3) for key in results[0]}
        for state, results in runs.items()
    }
    on, off = medians["on"]["cpu_ms_per_invoke"], medians["off"]["cpu_ms_per_invoke"]
    result = {
        "calls": args.calls,
        "rounds": args.rounds,
        "records_on": medians["on"],
        "records_off": medians["off"],
        "cpu_overhead_percent": round((on - off) / off * 100, 1),
        "added_cpu_us_per_invoke": added,
        "added_percent_of_warm_invoke_cpu": round(sum(added.values()) / (off * 1000) * 100, 2),
        "runs": runs,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "records.json").write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2))


if __name__ == "__main__":
    main()
