"""`--executor auto` with a Docker engine but no image for a runtime (no registry, say): such
functions run as local processes where the process executor can run them, and `tarn up`'s
log says so once; `tarn lambda get` shows which executor serves each function."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import cli_env, run_tarn
from tests.conftest import Stack, free_port, spawn, stop_stack
from tests.docker.conftest import TEST_STACK, wait_healthy
from tests.functions import ROLE, create_python_function, unique_name, zip_of

# A tag no registry has, on any machine: the image of python3.12 cannot be had.
MISSING = "python3.12=tarn-test/missing-image:none,dotnet8=tarn-test/missing-image:none"
FALLBACK = "python3.12 functions run as local processes"


@pytest.fixture
def auto_stack(docker_engine: str, tmp_path: Path) -> Iterator[Stack]:
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TARN_")}
    environ |= {"TARN_STACK_ID": TEST_STACK, "TARN_IMAGE_OVERRIDES": MISSING}
    argv = [sys.executable, "-m", "services.cli", "up", "--port", str(port)]
    argv += ["--data-dir", str(tmp_path / "data"), "--executor", "auto"]
    process = spawn(argv, tmp_path / "tarn.log", environ)
    stack = Stack(f"http://127.0.0.1:{port}", tmp_path / "data", process, tmp_path / "tarn.log")
    wait_healthy(stack)
    yield stack
    stop_stack(stack)


def test_a_function_without_its_image_runs_as_a_process_and_the_log_says_so_once(
    auto_stack: Stack, tmp_path: Path
) -> None:
    client = auto_stack.client()
    names = [unique_name("auto"), unique_name("auto")]
    for name in names:
        create_python_function(client, name)
        result = client.invoke(FunctionName=name, Payload=b'{"via": "auto"}')
        assert "FunctionError" not in result
        assert json.loads(result["Payload"].read()) == {"via": "auto"}
    log = auto_stack.log_path.read_text()
    assert "executor docker" in log
    assert log.count(FALLBACK) == 1, log[-4000:]
    assert "tarn-test/missing-image:none" in log  # why: the image Docker could not have
    assert log.count("pulling tarn-test/missing-image:none") == 1  # not tried at each create

    env = cli_env(auto_stack.url)
    shown = run_tarn(["lambda", "get", "--name", names[0]], cwd=tmp_path, env=env)
    assert shown.returncode == 0, shown.stderr
    assert any(line.split() == ["executor", "process"] for line in shown.stdout.splitlines())
    as_json = run_tarn(
        ["lambda", "get", "--name", names[0], "--output", "json"], cwd=tmp_path, env=env
    )
    assert json.loads(as_json.stdout)["Tarn"] == {"Executor": "process"}
    # AWS's own answer carries nothing of Tarn's.
    configuration = client.get_function_configuration(FunctionName=names[0])
    assert "process" not in json.dumps(configuration, default=str)


def test_a_runtime_neither_executor_can_run_fails_at_create_with_the_image_reason(
    auto_stack: Stack,
) -> None:
    client = auto_stack.client()
    name = unique_name("dotnet")  # no .NET runtime is packaged for the process executor
    client.create_function(
        FunctionName=name,
        Runtime="dotnet8",
        Role=ROLE,
        Handler="Example::Example.Function::Handler",
        Code={"ZipFile": zip_of({"Example.dll": b""})},
    )
    waiter = client.get_waiter("function_active_v2")
    with pytest.raises(Exception, match="Failed"):
        waiter.wait(FunctionName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
    configuration = client.get_function_configuration(FunctionName=name)
    assert configuration["State"] == "Failed"
    assert "tarn-test/missing-image:none" in configuration["StateReason"]
