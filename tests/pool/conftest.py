"""Fixtures for the pool tests: a real redis-server on a unix socket, a WarmPool in-process.

`running_pool` starts a WarmPool on its own key prefix, deploys functions as real code zips
through the BlobStore, publishes InvokeFunction on the real stream and reads the replies.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import time
import uuid
import zipfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import msgspec
import pytest
from redis.asyncio import Redis

from bus.keys import Keys
from bus.messages import INVOCATION_COMMANDS, REPLIES, InvokeFunction, Reply
from bus.records import FunctionVersion
from bus.settings import Settings
from bus.state import BlobStore
from bus.streams import FIELD, publish
from workers.pool import WarmPool

REGION = "us-east-1"
ACCOUNT = "123456789012"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One redis-server for the whole session, on a unix socket, persisting nothing."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    folder = tmp_path_factory.mktemp("redis")
    sock = folder / "redis.sock"
    process = subprocess.Popen(
        [server, "--port", "0", "--unixsocket", str(sock), "--save", "", "--appendonly", "no"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not sock.exists():
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            pytest.fail("redis-server did not start")
        time.sleep(0.01)
    yield f"unix://{sock}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url, decode_responses=False)
    yield client
    await client.aclose()


def code_zip(files: dict[str, str | bytes], modes: dict[str, int] | None = None) -> bytes:
    """A deployment package; `modes` gives Unix permissions (e.g. 0o755 for bootstrap)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = ((modes or {}).get(name, 0o644) | 0o100000) << 16
            archive.writestr(info, content)
    return buffer.getvalue()


@dataclass
class Harness:
    """A running pool, with helpers to deploy functions and invoke them through Redis."""

    redis: Redis
    keys: Keys
    pool: WarmPool

    async def deploy(
        self,
        files: dict[str, str | bytes],
        *,
        runtime: str = "python3.12",
        handler: str = "app.handler",
        modes: dict[str, int] | None = None,
        **config: Any,
    ) -> FunctionVersion:
        data = code_zip(files, modes)
        sha = BlobStore.digest(data)
        await BlobStore(self.redis, self.keys).put(data, sha)
        name = config.pop("name", f"fn-{uuid.uuid4().hex[:8]}")
        return FunctionVersion(
            name=name,
            arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
            runtime=runtime,
            handler=handler,
            code_sha256_hex=sha,
            revision_id=config.pop("revision_id", str(uuid.uuid4())),
            last_modified=config.pop("last_modified", "2024-01-01T00:00:00.000+0000"),
            state="Active",
            **config,
        )

    async def invoke(
        self,
        function: FunctionVersion,
        payload: Any = None,
        *,
        log_tail: bool = True,
        client_context: str | None = None,
        timeout_s: float = 20.0,
    ) -> Reply:
        request_id = str(uuid.uuid4())
        reply_to = self.keys.replies(uuid.uuid4().hex)
        command = InvokeFunction(
            request_id=request_id,
            function=function,
            payload=msgspec.json.encode(payload if payload is not None else {}),
            reply_to=reply_to,
            invoked_arn=function.arn,
            client_context=client_context,
            log_tail=log_tail,
        )
        await publish(self.redis, self.keys.invocations, INVOCATION_COMMANDS, command)
        with anyio.fail_after(timeout_s):
            while True:
                answer = await self.redis.xread({reply_to: "0-0"}, count=1, block=1000)
                if answer:
                    reply = REPLIES.decode(answer[0][1][0][1][FIELD])
                    assert reply.request_id == request_id
                    return reply


@asynccontextmanager
async def running_pool(redis: Redis, data_dir: Path, **options: Any) -> AsyncIterator[Harness]:
    """A WarmPool serving its own key prefix until the block ends; then it is closed."""
    keys = Keys(f"test-{uuid.uuid4().hex[:12]}")
    settings = Settings(data_dir=str(data_dir), key_prefix=keys.prefix, region=REGION)
    pool = WarmPool(settings, redis, keys, "test-pool", **options)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(pool.run)
        try:
            yield Harness(redis, keys, pool)
        finally:
            tasks.cancel_scope.cancel()
            with anyio.CancelScope(shield=True), anyio.move_on_after(10):
                await pool.aclose()
