"""The Parameters and Secrets extension and CloudWatch Logs from Docker containers."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import anyio
import pytest
from redis.asyncio import Redis

from bus.messages import InvocationCompleted
from tests.docker.conftest import docker_pool, docker_settings
from tests.docker.images.build import StandIns
from tests.pool.conftest import aws, moto_url, running_pool  # noqa: F401 (the fixture)
from tests.pool.test_cloudwatch import messages_when
from tests.pool.test_extension import APP, answer
from workers.pool.executors.docker import DockerExecutor

pytestmark = pytest.mark.anyio


async def test_a_container_reads_a_secret_and_its_log_reaches_cloudwatch(
    redis: Redis,
    tmp_path: Path,
    stand_ins: StandIns,
    moto_url: str,  # noqa: F811
) -> None:
    name = f"secret-{uuid.uuid4().hex[:10]}"
    aws(moto_url, "secretsmanager").create_secret(Name=name, SecretString="from moto")
    async with docker_pool(redis, tmp_path, stand_ins, aws_endpoint=moto_url) as pool:
        function = await pool.deploy({"app.py": APP})
        path = f"/secretsmanager/get?secretId={name}"
        reply = await pool.invoke(function, {"path": path}, timeout_s=120)
        unauthorized = await pool.invoke(function, {"path": path, "token": None})
        assert isinstance(reply, InvocationCompleted)
        group = f"/aws/lambda/{function.name}"
        streams = aws(moto_url, "logs").describe_log_streams
        logs = aws(moto_url, "logs")
        report = f"REPORT RequestId: {reply.request_id}"
        stream = ""
        with anyio.fail_after(10):
            while not stream:
                await anyio.sleep(0.05)
                try:
                    found = streams(logGroupName=group)["logStreams"]
                except logs.exceptions.ResourceNotFoundException:
                    found = []
                stream = found[0]["logStreamName"] if found else ""
        await messages_when(logs, group, stream, report)
    status, body = answer(reply)
    assert status == 200
    assert body["SecretString"] == "from moto"
    assert answer(unauthorized)[0] == 401
    assert json.loads(reply.payload)["port"]


@pytest.mark.skipif(shutil.which("go") is None, reason="Go builds the in-container proxy")
async def test_a_container_with_a_network_of_its_own_reads_its_stacks_secret_on_2773(
    redis: Redis,
    tmp_path: Path,
    stand_ins: StandIns,
    moto_url: str,  # noqa: F811
) -> None:
    name = f"secret-{uuid.uuid4().hex[:10]}"
    aws(moto_url, "secretsmanager").create_secret(Name=name, SecretString="own stack")
    bridged = DockerExecutor(docker_settings(stand_ins, tmp_path, docker_network="bridge"))
    async with running_pool(redis, tmp_path, aws_endpoint=moto_url, executor=bridged) as pool:
        function = await pool.deploy({"app.py": APP})
        reply = await pool.invoke(
            function, {"path": f"/secretsmanager/get?secretId={name}"}, timeout_s=120
        )
    status, body = answer(reply)
    assert (status, body["SecretString"]) == (200, "own stack")
    assert json.loads(reply.payload)["port"] == "2773"  # the pool's own port is another
