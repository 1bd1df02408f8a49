"""Fixtures for the Docker executor tests: the real engine, stand-in images, pools and a stack.

Every test here skips, saying why, when no Docker engine answers; nothing else skips them.
The stand-in runtime images are built once per machine (see images/build.py). Containers
are labelled with a test stack id and removed at the end, whatever happened.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from bus.settings import Settings
from tests.conftest import Stack, free_port, spawn, stop_stack
from tests.docker.images.build import StandIns, build_all
from tests.pool.conftest import Harness, running_pool
from workers.pool.executors.docker import DockerExecutor
from workers.pool.executors.engine import (
    STACK_LABEL,
    EngineUnavailable,
    describe,
    open_engine,
    remove_containers,
    stack_filter,
)

# One id for every container this test session starts, so the end removes exactly those.
TEST_STACK = f"tarn-test-{uuid.uuid4().hex[:8]}"
# Containers of an earlier test session killed before its cleanup ran are swept at the start;
# only old ones, so a test session running beside this one keeps its own.
STALE_AFTER_S = 3600


async def _engine_description() -> str:
    docker = open_engine()
    try:
        return await describe(docker)
    finally:
        await docker.close()


async def _remove_test_containers(stack: str) -> int:
    docker = open_engine()
    try:
        return await remove_containers(docker, stack_filter(stack))
    finally:
        await docker.close()


async def _sweep_stale_test_containers() -> int:
    """Remove containers of other, long-gone test sessions (`tarn-test-*`); how many."""
    docker = open_engine()
    try:
        found = await docker.containers.list(all=True, filters=json.dumps({"label": [STACK_LABEL]}))
        stale = {
            container["Labels"][STACK_LABEL]
            for container in found
            if container["Labels"][STACK_LABEL].startswith("tarn-test-")
            and container["Labels"][STACK_LABEL] != TEST_STACK
            and container["Created"] < time.time() - STALE_AFTER_S
        }
        return sum([await remove_containers(docker, stack_filter(stack)) for stack in stale])
    finally:
        await docker.close()


def containers_of(stack: str) -> int:
    """How many containers (running or not) carry `stack`'s label."""

    async def count() -> int:
        docker = open_engine()
        try:
            found = await docker.containers.list(all=True, filters=json.dumps(stack_filter(stack)))
            return len(found)
        finally:
            await docker.close()

    return asyncio.run(count())


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[str]:
    """The engine's description; skips the Docker tests when none answers."""
    try:
        description = asyncio.run(_engine_description())
    except EngineUnavailable as exc:
        pytest.skip(f"Docker executor tests need a Docker engine: {exc}")
    asyncio.run(_sweep_stale_test_containers())
    yield description
    asyncio.run(_remove_test_containers(TEST_STACK))


@pytest.fixture(scope="session")
def stand_ins(docker_engine: str, pytestconfig: pytest.Config) -> StandIns:
    """The stand-in runtime images, built now if this machine lacks them (progress shown)."""
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():  # type: ignore[union-attr]
        return asyncio.run(build_all())


def docker_settings(stand_ins: StandIns, data_dir: Path, **changes: Any) -> Settings:
    return Settings(
        data_dir=str(data_dir),
        executor="docker",
        stack_id=TEST_STACK,
        image_overrides=stand_ins.overrides,
        **changes,
    )


@asynccontextmanager
async def docker_pool(
    redis: Redis, data_dir: Path, stand_ins: StandIns, **options: Any
) -> AsyncIterator[Harness]:
    """A WarmPool with the Docker executor; its containers are gone when the block ends."""
    executor = DockerExecutor(docker_settings(stand_ins, data_dir))
    async with running_pool(redis, data_dir, executor=executor, **options) as harness:
        yield harness


def start_docker_stack(
    data_dir: Path, log_path: Path, stand_ins: StandIns, *args: str, **env: str
) -> Stack:
    """`tarn up --executor docker` with the stand-in images; waits until it is healthy."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TARN_")}
    environ |= {
        "TARN_STACK_ID": TEST_STACK,
        "TARN_IMAGE_OVERRIDES": stand_ins.overrides,
        **env,
    }
    argv = [sys.executable, "-m", "services.cli", "up", "--port", str(port)]
    argv += ["--data-dir", str(data_dir), "--executor", "docker", *args]
    process = spawn(argv, log_path, environ)
    stack = Stack(f"http://127.0.0.1:{port}", data_dir, process, log_path)
    wait_healthy(stack)
    return stack


def wait_healthy(stack: Stack, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while (stack.health() or {}).get("status") != "ready":
        if stack.process.poll() is not None or time.monotonic() > deadline:
            stack.process.kill()
            log = stack.log_path.read_text()[-4000:]
            raise RuntimeError(f"tarn up --executor docker did not become healthy:\n{log}")
        time.sleep(0.1)


@pytest.fixture(scope="session")
def docker_stack(stand_ins: StandIns, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("docker-stack")
    running = start_docker_stack(folder / "data", folder / "tarn.log", stand_ins)
    yield running
    stop_stack(running)


@pytest.fixture
def docker_client(docker_stack: Stack):  # type: ignore[no-untyped-def]
    return docker_stack.client()
