"""The warm pool with the Docker executor, in-process: containers come and go as environments do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from bus.messages import InvocationCompleted, Reply
from tests.docker.conftest import TEST_STACK, docker_pool
from tests.docker.images.build import StandIns
from workers.docker.engine import open_engine, stack_filter

pytestmark = pytest.mark.anyio

APP = """\
import time

print("init ran")

def handler(event, context):
    if event.get("sleep"):
        time.sleep(event["sleep"])
    print("handled", event.get("n"))
    return {"n": event.get("n")}
"""


def body(reply: Reply) -> Any:
    assert isinstance(reply, InvocationCompleted), reply
    return json.loads(reply.payload)


async def worker_containers(worker: str) -> int:
    docker = open_engine()
    try:
        filters = json.dumps(stack_filter(TEST_STACK, worker))
        return len(await docker.containers.list(all=True, filters=filters))
    finally:
        await docker.close()


async def test_a_timed_out_container_is_removed_and_the_pool_leaves_none(
    redis: Redis, tmp_path: Path, stand_ins: StandIns
) -> None:
    async with docker_pool(redis, tmp_path, stand_ins) as pool:
        worker = pool.pool.executors.default.worker  # type: ignore[attr-defined]
        function = await pool.deploy({"app.py": APP}, timeout_s=1)
        assert body(await pool.invoke(function, {"n": 1})) == {"n": 1}
        assert await worker_containers(worker) == 1
        timed_out = await pool.invoke(function, {"sleep": 5})
        assert body(timed_out)["errorType"] == "Sandbox.Timedout"
        assert await worker_containers(worker) == 0
        assert body(await pool.invoke(function, {"n": 2})) == {"n": 2}
    assert await worker_containers(worker) == 0


async def test_log_and_report_of_a_container(
    redis: Redis, tmp_path: Path, stand_ins: StandIns
) -> None:
    async with docker_pool(redis, tmp_path, stand_ins) as pool:
        function = await pool.deploy({"app.py": APP}, memory_mb=256)
        reply = await pool.invoke(function, {"n": 7})
        assert isinstance(reply, InvocationCompleted) and reply.log_tail is not None
        log = reply.log_tail.decode()
        assert log.startswith("init ran\nSTART RequestId:")
        assert "handled 7\nEND RequestId:" in log
        assert "Memory Size: 256 MB" in log
        assert "Init Duration:" in log


async def test_provided_without_a_bootstrap_is_an_invalid_entrypoint(
    redis: Redis, tmp_path: Path, stand_ins: StandIns
) -> None:
    async with docker_pool(redis, tmp_path, stand_ins) as pool:
        function = await pool.deploy({"main.sh": "echo"}, runtime="provided.al2023")
        error = body(await pool.invoke(function, {}))
        assert error["errorType"] == "Runtime.InvalidEntrypoint"
        assert "/var/task/bootstrap" in error["errorMessage"]
