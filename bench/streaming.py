"""Response streaming benchmark: time to first byte against total time for a Node.js function
that writes 10 chunks 100 ms apart, through InvokeWithResponseStream (boto3) and through a
RESPONSE_STREAM function URL (a raw HTTP client).

    python -m bench.streaming [--samples 5] [--executor process]

Starts its own `tarn up`; each path is warmed once, then timed `--samples` times from the
request to the first chunk and to the end. Writes bench/results/streaming-<executor>.json.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import httpx

from bench.stack import running_stack

RESULTS = Path(__file__).parent / "results"
CHUNKS = 10
NODE = """
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
  for (let i = 0; i < CHUNKS; i++) {
    responseStream.write(`chunk ${i}\\n`);
    await sleep(100);
  }
  responseStream.end();
});
""".replace("CHUNKS", str(CHUNKS))


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.js", NODE)
    return buffer.getvalue()


def _timed(chunks: Callable[[], Iterator[bytes]]) -> tuple[float, float]:
    started = time.perf_counter()
    first = 0.0
    received = b""
    for chunk in chunks():
        if chunk and not first:
            first = time.perf_counter() - started
        received += chunk
    assert received.count(b"chunk") == CHUNKS, received
    return first, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--executor", default="process")
    args = parser.parse_args()
    with running_stack("--executor", args.executor) as stack:
        client = boto3.client(
            "lambda",
            endpoint_url=stack.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        name = f"bench-stream-{uuid.uuid4().hex[:8]}"
        client.create_function(
            FunctionName=name,
            Runtime="nodejs20.x",
            Role="arn:aws:iam::000000000000:role/bench",
            Handler="index.handler",
            Code={"ZipFile": _zip()},
        )
        client.get_waiter("function_active_v2").wait(FunctionName=name)
        url_id = (
            client.create_function_url_config(
                FunctionName=name, AuthType="NONE", InvokeMode="RESPONSE_STREAM"
            )["FunctionUrl"]
            .split("//")[1]
            .split(".")[0]
        )
        client.add_permission(
            FunctionName=name,
            StatementId="public",
            Action="lambda:InvokeFunctionUrl",
            Principal="*",
            FunctionUrlAuthType="NONE",
        )

        def by_boto3() -> Iterator[bytes]:
            stream = client.invoke_with_response_stream(FunctionName=name)["EventStream"]
            for event in stream:
                yield event.get("PayloadChunk", {}).get("Payload", b"")

        def by_url() -> Iterator[bytes]:
            with httpx.stream("GET", f"{stack.url}/_tarn/urls/{url_id}/", timeout=60) as reply:
                yield from reply.iter_raw()

        results = {}
        for path, chunks in (("InvokeWithResponseStream", by_boto3), ("url", by_url)):
            _timed(chunks)  # warm
            samples = [_timed(chunks) for _ in range(args.samples)]
            results[path] = {
                "first_byte_s": round(statistics.median(s[0] for s in samples), 3),
                "total_s": round(statistics.median(s[1] for s in samples), 3),
            }
            print(path, results[path])
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"streaming-{args.executor}.json"
    out.write_text(json.dumps({"chunks": CHUNKS, "interval_s": 0.1, **results}, indent=2))


if __name__ == "__main__":
    main()
