"""`tarn up` and the Docker engine: the executor it picks, leftovers it removes, a clean stop."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from tests.api.test_invoke import invoke
from tests.conftest import free_port, stop_stack
from tests.docker.conftest import containers_of, start_docker_stack
from tests.docker.images.build import StandIns
from tests.functions import create_python_function, unique_name
from workers.docker.engine import STACK_LABEL, open_engine, remove_containers

NO_ENGINE = "unix:///nonexistent/docker.sock"


def tarn_up(data_dir: Path, *args: str, timeout_s: float = 30, **env: str) -> tuple[int, str]:
    """Run `tarn up` that is expected to stop by itself; its exit status and output."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TARN_")} | env
    argv = [sys.executable, "-m", "services.cli", "up", "--port", str(free_port())]
    argv += ["--data-dir", str(data_dir), *args]
    done = subprocess.run(argv, env=environ, capture_output=True, text=True, timeout=timeout_s)
    return done.returncode, done.stdout + done.stderr


def test_executor_docker_fails_fast_without_an_engine(tmp_path: Path) -> None:
    status, output = tarn_up(tmp_path, "--executor", "docker", DOCKER_HOST=NO_ENGINE)
    assert status == 1
    assert "no Docker engine answers" in output
    assert "--executor process" in output


def test_auto_falls_back_to_process_without_an_engine(tmp_path: Path) -> None:
    log = tmp_path / "tarn.log"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TARN_")}
    argv = [sys.executable, "-m", "services.cli", "up", "--port", str(free_port())]
    argv += ["--data-dir", str(tmp_path / "data")]
    with log.open("wb") as output:
        process = subprocess.Popen(
            argv, env=environ | {"DOCKER_HOST": NO_ENGINE}, stdout=output, stderr=output
        )
        try:
            deadline = time.monotonic() + 30
            while "ready on" not in log.read_text() and time.monotonic() < deadline:
                assert process.poll() is None, log.read_text()
                time.sleep(0.1)
        finally:
            process.terminate()
            process.wait(timeout=20)
    text = log.read_text()
    assert "tarn: executor process" in text
    assert "(executor: process," in text


async def _labelled_container(image: str, stack: str) -> str:
    docker = open_engine()
    try:
        container = await docker.containers.create(
            {"Image": image, "Entrypoint": ["sleep", "300"], "Labels": {STACK_LABEL: stack}}
        )
        await container.start()
        return container.id
    finally:
        await docker.close()


async def _exists(container_id: str) -> bool:
    docker = open_engine()
    try:
        found = await docker.containers.list(all=True, filters=json.dumps({"id": [container_id]}))
        return bool(found)
    finally:
        await docker.close()


async def _remove(stack: str) -> None:
    docker = open_engine()
    try:
        await remove_containers(docker, {"label": [f"{STACK_LABEL}={stack}"]})
    finally:
        await docker.close()


def test_tarn_up_removes_its_own_leftovers_and_nothing_else(
    tmp_path: Path, stand_ins: StandIns
) -> None:
    stack, other = f"tarn-test-{uuid.uuid4().hex[:8]}", f"tarn-test-{uuid.uuid4().hex[:8]}"
    image = stand_ins.runtimes["python3.12"]
    leftover = asyncio.run(_labelled_container(image, stack))
    someone_elses = asyncio.run(_labelled_container(image, other))
    try:
        # `auto` with an engine answering: Docker.
        running = start_docker_stack(
            tmp_path / "data",
            tmp_path / "tarn.log",
            stand_ins,
            "--executor",
            "auto",
            TARN_STACK_ID=stack,
        )
        try:
            assert not asyncio.run(_exists(leftover)), "a leftover of this stack survived start"
            assert asyncio.run(_exists(someone_elses)), "another stack's container was removed"
            client = running.client()
            name = unique_name("stop")
            create_python_function(client, name, Handler="app.handler")
            assert json.loads(invoke(client, name, {"n": 1})["Body"]) == {"n": 1}
            assert containers_of(stack) == 1
        finally:
            assert stop_stack(running) == 0
        assert containers_of(stack) == 0, "tarn up left containers behind"
        assert "executor docker" in (tmp_path / "tarn.log").read_text()
        assert asyncio.run(_exists(someone_elses))
    finally:
        asyncio.run(_remove(stack))
        asyncio.run(_remove(other))
