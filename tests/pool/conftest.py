"""Fixtures for the pool tests: a WarmPool in-process on the session's real redis-server.

`running_pool` starts a WarmPool on its own key prefix, deploys functions as real code zips
through the BlobStore, publishes InvokeFunction on the real stream and reads the replies.
"""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import boto3
import msgspec
import pytest
from redis.asyncio import Redis

from bus.concurrency import inbox_with_limits
from bus.keys import Keys
from bus.messages import INVOCATION_COMMANDS, InvokeFunction, Reply
from bus.records import FunctionVersion
from bus.settings import Settings
from bus.stores import BlobStore
from bus.transport.replies import ReplyInbox
from bus.transport.streams import publish
from tests.conftest import RUNTIMES_DIR, free_port, spawn
from tests.functions import zip_of
from tests.waiting import wait_for
from workers.context import WorkerContext
from workers.pool import WarmPool

REGION = "us-east-1"
ACCOUNT = "123456789012"


def code_zip(files: dict[str, str | bytes], modes: dict[str, int] | None = None) -> bytes:
    """A deployment package; `modes` gives Unix permissions (e.g. 0o755 for bootstrap)."""
    return zip_of(files, modes)


@dataclass
class Harness:
    """A running pool, with helpers to deploy functions and invoke them through Redis."""

    redis: Redis
    keys: Keys
    pool: WarmPool
    inbox: ReplyInbox

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
        await self.pool.blobs.put(data, sha)
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
        reply_to = self.inbox.key
        command = InvokeFunction(
            request_id=request_id,
            function=function,
            payload=msgspec.json.encode(payload if payload is not None else {}),
            reply_to=reply_to,
            invoked_arn=function.arn,
            client_context=client_context,
            log_tail=log_tail,
        )
        self.inbox.expect(request_id)
        await publish(self.redis, self.keys.invocations, INVOCATION_COMMANDS, command)
        reply = await self.inbox.wait(request_id, timeout_s)
        assert reply is not None, f"no reply within {timeout_s} s"
        return reply


@asynccontextmanager
async def running_pool(
    redis: Redis, data_dir: Path, *, aws_endpoint: str = "", **options: Any
) -> AsyncIterator[Harness]:
    """A WarmPool serving its own key prefix until the block ends; then it is closed."""
    keys = Keys(f"test-{uuid.uuid4().hex[:12]}")
    settings = Settings(
        data_dir=str(data_dir),
        key_prefix=keys.prefix,
        region=REGION,
        aws_endpoint=aws_endpoint,
        extension_port=0,  # several pools run at once: each takes a free port
        runtimes_dir=str(RUNTIMES_DIR),
    )
    context = WorkerContext.create(settings, redis, "test-pool")
    pool = WarmPool(context, **options)
    inbox = inbox_with_limits(redis, keys, settings)
    await inbox.open()
    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(pool.run)
            tasks.start_soon(inbox.run)
            try:
                yield Harness(redis, keys, pool, inbox)
            finally:
                tasks.cancel_scope.cancel()
    finally:
        # As the worker runner does: closed once run() has ended, not while its cancelled
        # tasks still unwind (one of them could start an environment aclose() never sees).
        with anyio.CancelScope(shield=True), anyio.move_on_after(10):
            await pool.aclose()
            await context.aclose()


@pytest.fixture(scope="session")
def moto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real moto server, the companion the pool talks to."""
    if shutil.which("moto_server") is None:
        pytest.fail("moto_server is not installed: install moto[server]")
    url = f"http://127.0.0.1:{free_port()}"
    argv = ["moto_server", "-H", "127.0.0.1", "-p", url.rsplit(":", 1)[1]]
    process = spawn(argv, tmp_path_factory.mktemp("moto") / "moto.log", mode="wb")
    try:
        wait_for(lambda: _answers(url), timeout_s=20, what="moto_server")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
            return True
    except urllib.error.HTTPError:
        return True  # it answers
    except OSError:
        return False


def aws(moto_url: str, service: str):  # type: ignore[no-untyped-def]
    """A boto3 client of the moto server."""
    return boto3.client(
        service,
        endpoint_url=moto_url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
