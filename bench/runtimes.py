"""Cold start and warm latency per runtime, end to end through Invoke.

    python -m bench.runtimes [--executor docker|process] [--cold 3] [--calls 50]

Starts its own `tarn up` (with the stand-in images for Docker, built if missing), creates the
tests' functions for each runtime (Python, Node.js, Ruby, Java, Go, Rust std-only and Rust on
lambda_runtime), times the first invoke of `--cold` fresh functions and the median of `--calls`
warm ones. Writes bench/results/runtimes-<executor>.json. This machine is noisy: read medians.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import statistics
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from bench.invoke import RESULTS, Client
from bench.stack import running_stack
from tests.conftest import RUNTIMES_DIR

EVENT = {"hello": "tarn", "n": 1}
PYTHON = "def handler(event, context):\n    return event\n"
NODE = "exports.handler = async (event) => event;\n"


@dataclass(frozen=True)
class Function:
    runtime: str
    handler: str
    files: Callable[[], dict[str, bytes | str]]


def java_files() -> dict[str, bytes | str]:
    from tests.pool.test_java import compiled, lib_layout

    return dict(lib_layout(compiled()))


def ruby_files() -> dict[str, bytes | str]:
    from tests.pool.test_ruby import FUNCTION

    return {"function.rb": FUNCTION}


def binary(language: str) -> Callable[[], dict[str, bytes | str]]:
    def files() -> dict[str, bytes | str]:
        from tests.pool.test_provided import build
        from tests.pool.test_rust_lambda_runtime import bootstrap

        return {"bootstrap": bootstrap() if language == "lambda_runtime" else build(language)}

    return files


FUNCTIONS = {
    "python3.12": Function("python3.12", "app.handler", lambda: {"app.py": PYTHON}),
    "nodejs20.x": Function("nodejs20.x", "index.handler", lambda: {"index.js": NODE}),
    "ruby3.3": Function("ruby3.3", "function.handler", ruby_files),
    "java21": Function("java21", "example.Handler", java_files),
    "go": Function("provided.al2023", "unused", binary("go")),
    "rust": Function("provided.al2023", "unused", binary("rust")),
    "rust-lambda_runtime": Function("provided.al2023", "unused", binary("lambda_runtime")),
}


def package(files: dict[str, bytes | str]) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o755 if name == "bootstrap" else 0o644) << 16
            archive.writestr(info, data)
    return base64.b64encode(buffer.getvalue()).decode()


def create(client: Client, function: Function, code: str) -> str:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    request = {
        "FunctionName": name,
        "Runtime": function.runtime,
        "Handler": function.handler,
        "Role": "arn:aws:iam::000000000000:role/bench",
        "Timeout": 30,
        "Code": {"ZipFile": code},
    }
    status, body = client.call("POST", "/2015-03-31/functions", json.dumps(request).encode())
    if status != 201:
        raise RuntimeError(f"create answered {status}: {body!r}")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        _, body = client.call("GET", f"/2015-03-31/functions/{name}/configuration")
        if json.loads(body)["State"] == "Active":
            return name
        time.sleep(0.01)
    raise RuntimeError(f"{name} did not become Active")


def timed_invoke(client: Client, name: str) -> float:
    started = time.perf_counter()
    status, body = client.call(
        "POST", f"/2015-03-31/functions/{name}/invocations", json.dumps(EVENT).encode()
    )
    elapsed = (time.perf_counter() - started) * 1000
    if status != 200 or json.loads(body) != EVENT:
        raise RuntimeError(f"invoke of {name} answered {status}: {body[:300]!r}")
    return elapsed


def measure(client: Client, function: Function, cold: int, calls: int) -> dict[str, float]:
    code = package(function.files())
    names = [create(client, function, code) for _ in range(cold)]
    colds = [timed_invoke(client, name) for name in names]
    for _ in range(10):  # warm the environment and the connection
        timed_invoke(client, names[0])
    warm = [timed_invoke(client, names[0]) for _ in range(calls)]
    return {
        "cold_start_ms_median": round(statistics.median(colds), 1),
        "warm_p50_ms": round(statistics.median(warm), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--executor", default="docker", choices=["docker", "process"])
    parser.add_argument("--cold", type=int, default=3)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--only", nargs="*", default=list(FUNCTIONS))
    args = parser.parse_args()
    os.environ["TARN_RUNTIMES_DIR"] = str(RUNTIMES_DIR)  # the tests' prepared runtimes
    if args.executor == "docker":
        from tests.docker.images.build import build_all

        os.environ["TARN_IMAGE_OVERRIDES"] = asyncio.run(build_all()).overrides
    results = {}
    with running_stack("--executor", args.executor) as stack:
        client = Client(stack.url)
        for key in args.only:
            results[key] = measure(client, FUNCTIONS[key], args.cold, args.calls)
            print(key, results[key], flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"runtimes-{args.executor}.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
