"""Provisioned environments in the pool: initialised before any invocation, used first, kept
past the keep-alive, and free of the on-demand init in their REPORT."""

from __future__ import annotations

import anyio
import pytest

from tests.pool.conftest import running_pool
from tests.pool.test_pool import body, wait_until

pytestmark = pytest.mark.anyio

APP = """\
import os

def handler(event, context):
    return {"type": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"], "pid": os.getpid()}
"""


async def test_a_provisioned_environment_outlives_the_keep_alive_and_serves_first(redis, tmp_path):
    async with running_pool(redis, tmp_path, keep_alive_s=0.2) as pool:
        function = await pool.deploy({"app.py": APP})
        await wait_until(lambda: pool.pool._tasks is not None)  # run() has begun
        environment = await pool.pool.provision(function)
        assert environment.api.first_next_at  # init ran before any invocation
        await anyio.sleep(1.0)  # several keep-alives
        assert environment in pool.pool.live and not environment.dead
        reply = await pool.invoke(function)
        assert body(reply)["type"] == "provisioned-concurrency"
        assert body(reply)["pid"] == environment.sandbox.pid  # type: ignore[union-attr]
        assert reply.log_tail is not None and b"Init Duration" not in reply.log_tail
        assert await pool.pool.dismiss(environment)
        assert environment.dead and environment not in pool.pool.live
