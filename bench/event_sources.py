"""SQS event source mapping benchmark: delivery latency after idle, and throughput beside the
companion's own drain rate.

    python -m bench.event_sources [--messages 5000] [--idle-s 30] [--samples 3]
                                  [--executor process]

Starts a moto server and a `tarn up` that uses it (so the baseline can talk to moto directly,
as the poller does). A Python function records when each handler started.

- Latency: after `--idle-s` with the mapping enabled and the function warm, one SendMessage
  (straight to the companion); from just before that call to the handler's start.
- Throughput: `--messages` messages in a standard queue, then a mapping with BatchSize 10;
  from its creation until the last handler finished (every message handled at least once).
- Baseline: the same number of messages in another queue, drained by one client doing
  ReceiveMessage (10) and DeleteMessageBatch, as fast as the companion answers.

Writes bench/results/event_sources-<executor>.json. This machine is noisy: read ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from bench.invoke import Client, create_function, run_clients
from bench.stack import running_stack

RESULTS = Path(__file__).parent / "results"
ACCOUNT = "000000000000"
# Each invocation's handler start, end and message bodies, in a file of its own.
RECORDER = """
import json
import os
import time

def handler(event, context):
    started = time.time()
    bodies = [record["body"] for record in event["Records"]]
    path = os.path.join({folder!r}, context.aws_request_id)
    with open(path + ".part", "w") as out:
        json.dump({{"start": started, "end": time.time(), "bodies": bodies}}, out)
    os.rename(path + ".part", path + ".json")
"""
SEND_THREADS = 8
WAIT_S = 900


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on a free port, in Tarn's account; its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    env = dict(os.environ, MOTO_ACCOUNT_ID=ACCOUNT)
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not _answers(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("moto server did not start")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
            return True
    except OSError:
        return False


def client(service: str, url: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, read_timeout=120, max_pool_connections=32),
    )


class Recorder:
    """A function that records its invocations under a folder of its own."""

    def __init__(self, stack_url: str, folder: Path) -> None:
        self.folder = folder
        folder.mkdir()
        self.name = f"bench-{uuid.uuid4().hex[:8]}"
        create_function(Client(stack_url), self.name, RECORDER.format(folder=str(folder)))
        self.seen: dict[str, dict[str, Any]] = {}

    def invocations(self) -> list[dict[str, Any]]:
        """Every invocation recorded so far (files already read are not read again)."""
        for path in self.folder.glob("*.json"):
            if path.name not in self.seen:
                self.seen[path.name] = json.loads(path.read_text())
        return list(self.seen.values())

    def wait(self, done: Any, what: str, timeout_s: float = WAIT_S) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        while not done(invocations := self.invocations()):
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out waiting for {what}")
            time.sleep(0.05)
        return invocations


def make_queue(sqs: Any) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=f"bench-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return url, arn["QueueArn"]


def fill(sqs: Any, url: str, count: int) -> float:
    """Send `count` messages in batches of ten from several threads; the send rate."""
    started = time.perf_counter()

    def send(first: int) -> None:
        for start in range(first * 10, count, SEND_THREADS * 10):
            entries = [
                {"Id": str(n), "MessageBody": f"m{n}"} for n in range(start, min(start + 10, count))
            ]
            sqs.send_message_batch(QueueUrl=url, Entries=entries)

    run_clients(send, SEND_THREADS)
    return count / (time.perf_counter() - started)


def latency_after_idle(
    lam: Any, sqs: Any, stack_url: str, folder: Path, idle_s: float, samples: int
) -> list[float]:
    url, arn = make_queue(sqs)
    recorder = Recorder(stack_url, folder / "latency")
    mapping = lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName=recorder.name, BatchSize=10
    )["UUID"]
    sqs.send_message(QueueUrl=url, MessageBody="warm-up")
    recorder.wait(lambda calls: len(calls) >= 1, "the warm-up message")
    timings = []
    for sample in range(samples):
        time.sleep(idle_s)
        body = f"probe-{sample}"
        sent = time.time()
        sqs.send_message(QueueUrl=url, MessageBody=body)
        calls = recorder.wait(partial(_has, body), body)
        started = next(c["start"] for c in calls if body in c["bodies"])
        timings.append((started - sent) * 1000)
        print(f"latency after {idle_s:.0f} s idle: {timings[-1]:.1f} ms", flush=True)
    lam.delete_event_source_mapping(UUID=mapping)
    return timings


def _has(body: str, calls: list[dict[str, Any]]) -> bool:
    return any(body in call["bodies"] for call in calls)


def mapping_throughput(lam: Any, sqs: Any, stack_url: str, folder: Path, count: int) -> dict:
    url, arn = make_queue(sqs)
    send_rate = fill(sqs, url, count)
    recorder = Recorder(stack_url, folder / "throughput")
    created = time.time()
    mapping = lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName=recorder.name, BatchSize=10
    )["UUID"]

    def handled(calls: list[dict[str, Any]]) -> bool:
        return len({body for call in calls for body in call["bodies"]}) >= count

    calls = recorder.wait(handled, f"{count} messages handled")
    first = min(call["start"] for call in calls)
    last = max(call["end"] for call in calls)
    lam.delete_event_source_mapping(UUID=mapping)
    records = sum(len(call["bodies"]) for call in calls)
    return {
        "send_msgs_per_s": round(send_rate, 1),
        "esm_msgs_per_s": round(count / (last - created), 1),
        "esm_msgs_per_s_first_to_last_handler": round(count / (last - first), 1),
        "esm_start_s": round(first - created, 3),
        "esm_invocations": len(calls),
        "esm_mean_batch": round(records / len(calls), 2),
        "esm_redelivered": records - count,
    }


def companion_drain(sqs: Any, count: int) -> float:
    """Receive (10) + DeleteMessageBatch from one client until `count` are gone; msgs/s."""
    url, _ = make_queue(sqs)
    fill(sqs, url, count)
    started = time.perf_counter()
    drained = 0
    while drained < count:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            continue
        handles = [message["ReceiptHandle"] for message in messages]
        entries = [{"Id": str(n), "ReceiptHandle": h} for n, h in enumerate(handles)]
        sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        drained += len(messages)
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--idle-s", type=float, default=30)
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--executor", default="process")
    args = parser.parse_args()
    # `timeout` and Ctrl-C alike: unwind, so the stack and the moto server are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    with (
        tempfile.TemporaryDirectory() as scratch,
        moto_server() as moto_url,
        running_stack("--executor", args.executor, "--aws-endpoint", moto_url) as stack,
    ):
        folder = Path(scratch)
        lam, sqs = client("lambda", stack.url), client("sqs", moto_url)
        latencies = latency_after_idle(lam, sqs, stack.url, folder, args.idle_s, args.samples)
        throughput = mapping_throughput(lam, sqs, stack.url, folder, args.messages)
        print(json.dumps(throughput), flush=True)
        baseline = companion_drain(sqs, args.messages)
    result = {
        "executor": args.executor,
        "idle_s": args.idle_s,
        "latency_after_idle_ms": [round(t, 1) for t in latencies],
        "latency_after_idle_ms_median": round(statistics.median(latencies), 1),
        "messages": args.messages,
        **throughput,
        "companion_drain_msgs_per_s": round(baseline, 1),
        "esm_to_companion_drain": round(throughput["esm_msgs_per_s"] / baseline, 3),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"event_sources-{args.executor}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
