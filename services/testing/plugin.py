"""Tarn's pytest fixtures: a stack for the session (`tarn up` on a free port with a temporary
data dir, or the one TARN_ENDPOINT names), boto3 clients of any service pointed at it, and
functions deployed from folders.

Every fixture is lazy: a session that asks for none starts nothing and imports nothing heavy.
Names start with `tarn_`, so they never shadow a project's own fixtures.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# A cold `tarn up` (Redis, the companion, the API, the workers) is ready in a few seconds.
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
ACTIVE_TIMEOUT_S = 60
REGION = "us-east-1"


@dataclass
class TarnStack:
    """A running stack: its endpoint, and the `tarn up` process when this session started it."""

    endpoint: str
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str, **options: Any) -> Any:
        """A boto3 client of `service` on the stack (placeholder credentials, us-east-1)."""
        if options:
            return _client(service, self.endpoint, **options)
        if service not in self._clients:
            self._clients[service] = _client(service, self.endpoint)
        return self._clients[service]


def _client(service: str, endpoint: str, **options: Any) -> Any:
    import boto3

    settings: dict[str, Any] = {
        "endpoint_url": endpoint,
        "region_name": REGION,
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
    }
    return boto3.client(service, **(settings | options))


@pytest.fixture(scope="session")
def tarn_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TarnStack]:
    """The stack of this test session: TARN_ENDPOINT's, else a `tarn up` started now (the
    process executor, a temporary data dir) and stopped at the end."""
    endpoint = os.environ.get("TARN_ENDPOINT")
    if endpoint:
        yield TarnStack(endpoint.rstrip("/"))
        return
    folder = tmp_path_factory.mktemp("tarn")
    stack = start_stack(folder)
    try:
        yield stack
    finally:
        assert stack.process is not None
        stack.process.terminate()
        try:
            stack.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            stack.process.kill()


def start_stack(folder: Path) -> TarnStack:
    """`tarn up` on a free loopback port, data under `folder`; waits until it is healthy."""
    port = _free_port()
    log = folder / "tarn.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TARN_")}
    # Prepared runtimes (a Python environment per version) outlive the data dir.
    env.setdefault("TARN_RUNTIMES_DIR", str(Path(tempfile.gettempdir()) / "tarn-runtimes"))
    command = [sys.executable, "-m", "services.cli", "up", "--port", str(port)]
    command += ["--data-dir", str(folder / "data"), "--executor", "process"]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env)
    stack = TarnStack(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _healthy(stack.endpoint):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"tarn up did not become ready:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    return stack


def _healthy(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/_tarn/health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def tarn_client(tarn_stack: TarnStack) -> Callable[..., Any]:
    """`tarn_client("sqs")`: a boto3 client of any service on the session's stack."""
    return tarn_stack.client


@pytest.fixture
def tarn_deploy(tarn_stack: TarnStack) -> Iterator[Callable[..., dict[str, Any]]]:
    """`tarn_deploy(name, folder, handler=..., runtime=..., **CreateFunction fields)`: the
    folder zipped (without what `.tarnignore` lists), created (or its code updated), Active
    when it returns; the function's configuration. Deleted after the test."""
    client = tarn_stack.client("lambda")
    deployed: list[str] = []

    def deploy(name: str, folder: str | Path, handler: str, **fields: Any) -> dict[str, Any]:
        configuration = deploy_function(client, name, Path(folder), handler, **fields)
        deployed.append(name)
        return configuration

    yield deploy
    for name in deployed:
        try:
            client.delete_function(FunctionName=name)
        except client.exceptions.ResourceNotFoundException:
            pass


def deploy_function(
    client: Any, name: str, folder: Path, handler: str, **fields: Any
) -> dict[str, Any]:
    """Create (or update the code of) function `name` from `folder`; wait until Active."""
    from services.cli.lambda_cli.packages import zip_folder
    from workers.standalone.functions import guess_runtime

    package = zip_folder(folder)
    fields.setdefault("Runtime", guess_runtime(folder, handler))
    fields.setdefault("Role", "arn:aws:iam::000000000000:role/lambda")
    try:
        client.create_function(
            FunctionName=name, Handler=handler, Code={"ZipFile": package}, **fields
        )
    except client.exceptions.ResourceConflictException:
        client.update_function_code(FunctionName=name, ZipFile=package)
    waiter = "function_active_v2"
    client.get_waiter(waiter).wait(
        FunctionName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": ACTIVE_TIMEOUT_S * 5}
    )
    client.get_waiter("function_updated_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": ACTIVE_TIMEOUT_S * 5}
    )
    return dict(client.get_function_configuration(FunctionName=name))
