"""Java, Ruby, Go and Rust in containers of the stand-in images: the contract every runtime's
test function keeps (tests/pool/runtime_checks.py), as the process executor's tests check it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from bus.records import FunctionVersion
from tests.docker.conftest import docker_pool
from tests.docker.images.build import StandIns
from tests.pool.runtime_checks import body, check_init_error, check_invocations, check_timeout
from tests.pool.test_java import compiled, lib_layout
from tests.pool.test_provided import build
from tests.pool.test_ruby import FUNCTION as RUBY_FUNCTION
from tests.pool.test_rust_lambda_runtime import BUILD_TIMEOUT_S, bootstrap, check_contract

pytestmark = pytest.mark.anyio

EXECUTABLE = {"bootstrap": 0o755}


@dataclass(frozen=True)
class Case:
    """A runtime's test function: its files (built on demand), handler and error type."""

    runtime: str
    files: Callable[[], dict[str, str | bytes]]
    error_type: str
    handler: str = "unused"
    modes: dict[str, int] = field(default_factory=dict)


def java_files() -> dict[str, str | bytes]:
    return lib_layout(compiled())


CASES = {
    "java21": Case("java21", java_files, "java.lang.IllegalArgumentException", "example.Handler"),
    "ruby3.3": Case(
        "ruby3.3",
        lambda: {"function.rb": RUBY_FUNCTION},
        "Function<ArgumentError>",
        "function.handler",
    ),
    "go": Case("provided.al2023", lambda: {"bootstrap": build("go")}, "", modes=EXECUTABLE),
    "rust": Case("provided.al2023", lambda: {"bootstrap": build("rust")}, "", modes=EXECUTABLE),
}


@pytest.mark.slow  # a few containers each; the JVM's take a second to start
@pytest.mark.parametrize("name", list(CASES))
async def test_runtime_in_a_container_keeps_the_contract(
    redis: Redis, tmp_path: Path, stand_ins: StandIns, name: str
) -> None:
    case = CASES[name]
    files = case.files()
    options: dict[str, Any] = {
        "runtime": case.runtime,
        "handler": case.handler,
        "modes": case.modes,
    }
    async with docker_pool(redis, tmp_path, stand_ins) as pool:
        function = await pool.deploy(files, environment={"GREETING": "hi"}, **options)
        await check_invocations(pool, function)
        failed = body(await pool.invoke(function, {"action": "raise"}))
        environ = body(await pool.invoke(function, {"action": "environ"}))
        broken = await pool.deploy(files, environment={"TARN_TEST_INIT_FAIL": "1"}, **options)
        await check_init_error(pool, broken)
        slow = await pool.deploy(files, timeout_s=2, **options)
        await check_timeout(pool, slow)
    assert environ["LAMBDA_TASK_ROOT"] == "/var/task"  # in the container, not on the host
    if case.error_type:
        assert failed["errorType"] == case.error_type


@pytest.mark.slow
@pytest.mark.timeout(BUILD_TIMEOUT_S + 60)  # the first run on a machine builds the crate
async def test_lambda_runtime_function_in_a_container(
    redis: Redis, tmp_path: Path, stand_ins: StandIns
) -> None:
    binary = bootstrap()
    async with docker_pool(redis, tmp_path, stand_ins) as pool:

        async def deploy(**config: Any) -> FunctionVersion:
            return await pool.deploy(
                {"bootstrap": binary}, modes=EXECUTABLE, runtime="provided.al2023", **config
            )

        await check_contract(pool, deploy)
