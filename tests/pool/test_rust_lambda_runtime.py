"""A Rust function on the lambda_runtime crate (AWS's own client, from crates.io) against
Tarn's Runtime API: `bootstrap` in the zip and in a layer, on the process executor."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from bus.records import FunctionVersion
from tests.conftest import RUNTIMES_DIR
from tests.pool.conftest import Harness, running_pool
from tests.pool.runtime_checks import body, check_invocations, check_timeout, log_tail
from tests.pool.test_provided import put_layer

pytestmark = pytest.mark.anyio

PROJECT = Path(__file__).resolve().parent / "provided" / "lambda_runtime"
EXECUTABLE = {"bootstrap": 0o755}
# lambda_runtime reports a handler's error with the error's Rust type and no stack trace.
ERROR_TYPE = "&alloc::boxed::Box<dyn core::error::Error"
# The first build on a machine compiles ~100 crates: 2 minutes of CPU, over 6 minutes of wall
# time on a busy 2-core machine. The tests that may build get this long; later runs take 10 s.
BUILD_TIMEOUT_S = 840


@cache  # once per test session, whoever asks first (tests/pool or tests/docker)
def bootstrap() -> bytes:
    """The function's release binary, built once per machine for its sources and toolchain
    (cargo build --release; its dependencies come from crates.io on the first build)."""
    if shutil.which("cargo") is None:
        pytest.skip("cargo is not installed: cannot build the lambda_runtime function")
    toolchain = subprocess.run(["rustc", "-V"], capture_output=True, text=True).stdout
    hashed = hashlib.sha256(toolchain.encode())
    for name in ("Cargo.toml", "Cargo.lock", "src/main.rs"):
        hashed.update((PROJECT / name).read_bytes())
    binary = RUNTIMES_DIR / f"test-lambda-runtime-{hashed.hexdigest()[:12]}"
    if binary.is_file():
        return binary.read_bytes()
    target = RUNTIMES_DIR / "cargo-target"  # kept: a changed source rebuilds only itself
    env = os.environ | {"CARGO_TARGET_DIR": str(target)}
    fetched = subprocess.run(["cargo", "fetch", "--locked"], cwd=PROJECT, env=env)
    if fetched.returncode != 0:
        pytest.skip("cargo could not fetch lambda_runtime and its dependencies from crates.io")
    command = ["cargo", "build", "--release", "--locked", "--quiet"]
    subprocess.run(command, cwd=PROJECT, env=env, check=True, timeout=BUILD_TIMEOUT_S)
    scratch = binary.with_name(f".{binary.name}-{os.getpid()}")
    shutil.copy(target / "release" / "bootstrap", scratch)
    scratch.rename(binary)
    return binary.read_bytes()


async def check_contract(pool: Harness, deploy: Any) -> None:
    """The runtime contract, as lambda_runtime keeps it."""
    function: FunctionVersion = await deploy(environment={"GREETING": "hi"})
    await check_invocations(pool, function, stack_trace=False)
    failed = await pool.invoke(function, {"action": "raise"})
    error = body(failed)
    assert error["errorType"].startswith(ERROR_TYPE), error
    assert error == {"errorType": error["errorType"], "errorMessage": "bad input"}
    assert body(await pool.invoke(function, {"action": "context"}))["language"] == (
        "rust-lambda_runtime"
    )
    # main() returns its error before the runtime starts: the process exits, as on AWS.
    broken = await deploy(environment={"TARN_TEST_INIT_FAIL": "1"})
    crashed = await pool.invoke(broken, {})
    assert body(crashed)["errorType"] == "Runtime.ExitError"
    assert "init failed" in log_tail(crashed)
    await check_timeout(pool, await deploy(timeout_s=1))


@pytest.mark.slow
@pytest.mark.timeout(BUILD_TIMEOUT_S + 60)  # the first run on a machine builds the crate
async def test_lambda_runtime_function_in_the_zip(redis, tmp_path):
    binary = bootstrap()
    async with running_pool(redis, tmp_path) as pool:

        async def deploy(**config: Any) -> FunctionVersion:
            files = {"bootstrap": binary}
            return await pool.deploy(files, modes=EXECUTABLE, runtime="provided.al2023", **config)

        await check_contract(pool, deploy)


@pytest.mark.slow
@pytest.mark.timeout(BUILD_TIMEOUT_S + 60)
async def test_lambda_runtime_function_in_a_layer(redis, tmp_path):
    binary = bootstrap()
    async with running_pool(redis, tmp_path) as pool:
        layer = await put_layer(pool, {"bootstrap": binary}, EXECUTABLE)
        function = await pool.deploy(
            {"README": "code in the layer"}, runtime="provided.al2", layer_code=[layer]
        )
        reply = await pool.invoke(function, {"from": "layer"})
    assert body(reply) == {"from": "layer"}
