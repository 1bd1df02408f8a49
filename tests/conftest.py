"""Real services for the tests: one redis-server and one `tarn up` stack per test session.

Each test owns its Redis keys (a random prefix) and its function names, so nothing is flushed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from redis.asyncio import Redis

from bus.keys import Keys


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on a Unix socket, for the bus tests."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed: run `make test`, which installs it")
    folder = tmp_path_factory.mktemp("redis")
    sock = folder / "redis.sock"
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--save",
            "",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not sock.exists():
        assert time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.02)
    yield f"unix://{sock}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def keys() -> Keys:
    return Keys(f"test-{uuid.uuid4().hex[:12]}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Stack:
    """A running `tarn up`: its URL, data dir and process."""

    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def client(self, service: str = "lambda", *, validate: bool = True):  # type: ignore[no-untyped-def]
        """A boto3 client on the stack; `validate=False` sends what botocore's own checks
        would stop, as other SDKs may, so the server's validation answers."""
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(
                retries={"max_attempts": 1}, read_timeout=120, parameter_validation=validate
            ),
        )

    def health(self) -> dict[str, object] | None:
        import json

        try:
            with urllib.request.urlopen(f"{self.url}/_tarn/health", timeout=2) as response:
                return dict(json.load(response))
        except urllib.error.HTTPError as error:  # 503 while starting still says which part
            with error:  # closed, or its socket is left to the garbage collector's warning
                return dict(json.load(error))
        except OSError:
            return None


# Python environments and the Java client, prepared once per machine for every test session:
# their names carry what went into them (versions, a hash of the sources).
RUNTIMES_DIR = Path(tempfile.gettempdir()) / "tarn-test-runtimes"


def start_stack(
    data_dir: Path, log_path: Path, port: int | None = None, settings: dict[str, str] | None = None
) -> Stack:
    """`tarn up` with the process executor; `settings` adds or overrides TARN_* variables."""
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TARN_")}
    env["TARN_ASYNC_RETRY_BASE_S"] = "0.2"  # retries after 0.2 s, then 0.4 s, not minutes
    env["TARN_SCHEDULE_SPEEDUP"] = "60"  # the companion fires a rate(1 minute) rule each second
    env["TARN_RUNTIMES_DIR"] = str(RUNTIMES_DIR)
    env.update(settings or {})
    process = spawn(
        [
            sys.executable,
            "-m",
            "services.cli",
            "up",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            # Docker has tests of its own (tests/docker); these run everywhere.
            "--executor",
            "process",
        ],
        log_path,
        env,
    )
    stack = Stack(f"http://127.0.0.1:{port}", data_dir, process, log_path)
    deadline = time.monotonic() + 60
    while (stack.health() or {}).get("status") != "ready":
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"tarn up did not become healthy:\n{log_path.read_text()[-4000:]}")
        time.sleep(0.1)
    return stack


def spawn(
    argv: list[str], log_path: Path, env: dict[str, str] | None = None, mode: str = "ab"
) -> subprocess.Popen[bytes]:
    """Start `argv` with its output (stdout and stderr) appended to `log_path`."""
    with log_path.open(mode) as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)


def stop_stack(stack: Stack) -> int:
    stack.process.terminate()
    return stack.process.wait(timeout=20)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("stack")
    running = start_stack(folder / "data", folder / "tarn.log")
    yield running
    stop_stack(running)


@pytest.fixture
def lambda_client(stack: Stack):  # type: ignore[no-untyped-def]
    return stack.client()


@pytest.fixture
def unchecked_client(stack: Stack):  # type: ignore[no-untyped-def]
    """A Lambda client without botocore's parameter checks."""
    return stack.client(validate=False)
