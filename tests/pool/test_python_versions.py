"""The process executor runs pythonX.Y on Python X.Y when it is installed, with awslambdaric
in an environment of its own; otherwise on the nearest Python, saying so in the log."""

from __future__ import annotations

import sys

import pytest

from tests.pool.conftest import running_pool
from tests.pool.runtime_checks import (
    body,
    check_init_error,
    check_invocations,
    check_timeout,
    log_tail,
    prepare,
)
from workers.pool.interpreters import python_for

pytestmark = pytest.mark.anyio

APP = """\
import os, sys, time

if os.environ.get("TARN_TEST_INIT_FAIL"):
    raise RuntimeError("init failed")

def handler(event, context):
    action = event.get("action") if isinstance(event, dict) else None
    if action == "context":
        return {
            "function_name": context.function_name,
            "request_id": context.aws_request_id,
            "arn": context.invoked_function_arn,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "memory": context.memory_limit_in_mb,
        }
    if action == "environ":
        return dict(os.environ)
    if action == "raise":
        raise ValueError("bad input")
    if action == "sleep":
        time.sleep(event["seconds"])
    if action == "version":
        import boto3
        return {"version": list(sys.version_info[:2]), "boto3": boto3.__version__}
    return event
"""
# Syntax only Python 3.12 parses: a type alias statement.
PYTHON_312_ONLY = APP + "\ntype Pair = tuple[int, int]\n"
VERSIONS = ["3.9", "3.10", "3.11", "3.12", "3.13"]


async def installed(version: str) -> None:
    if python_for(version) is None:
        pytest.skip(f"python{version} is not installed on this machine")
    await prepare(f"python{version}")


@pytest.mark.slow  # the first run sets up an environment per version (pip, ~10 s each)
@pytest.mark.parametrize("version", VERSIONS)
async def test_python_runtime_runs_on_its_own_version(redis, tmp_path, version):
    await installed(version)
    async with running_pool(redis, tmp_path) as pool:
        function = await pool.deploy(
            {"app.py": APP}, runtime=f"python{version}", environment={"GREETING": "hi"}
        )
        reply = await pool.invoke(function, {"action": "version"})
        await check_invocations(pool, function)
    assert body(reply)["version"] == [int(part) for part in version.split(".")]
    assert body(reply)["boto3"]  # as on AWS, boto3 comes with the runtime
    assert "WARNING" not in log_tail(reply)


async def test_python312_only_syntax_runs_on_python312(redis, tmp_path):
    await installed("3.12")
    async with running_pool(redis, tmp_path) as pool:
        function = await pool.deploy({"app.py": PYTHON_312_ONLY}, runtime="python3.12")
        reply = await pool.invoke(function, {"action": "version"})
    assert body(reply)["version"] == [3, 12]


async def test_init_error_and_timeout_on_another_python(redis, tmp_path):
    await installed("3.12")
    async with running_pool(redis, tmp_path) as pool:
        broken = await pool.deploy(
            {"app.py": APP}, runtime="python3.12", environment={"TARN_TEST_INIT_FAIL": "1"}
        )
        error = await check_init_error(pool, broken)
        slow = await pool.deploy({"app.py": APP}, runtime="python3.12", timeout_s=1)
        await check_timeout(pool, slow)
    assert error["errorType"] == "Runtime.Unknown" or "RuntimeError" in error["errorType"]


async def test_a_python_not_installed_runs_on_the_nearest_with_a_warning(redis, tmp_path):
    if python_for("3.14") is not None:
        pytest.skip("python3.14 is installed here: nothing to fall back from")
    await prepare("python3.14")
    async with running_pool(redis, tmp_path) as pool:
        function = await pool.deploy({"app.py": APP}, runtime="python3.14")
        reply = await pool.invoke(function, {"action": "version"})
    minor = body(reply)["version"][1]
    assert (
        minor == max(m for m in range(8, 15) if python_for(f"3.{m}"))
        or minor == sys.version_info.minor
    )
    assert f"python3.14 is not installed here: running on Python 3.{minor}" in log_tail(reply)
