"""`tarn up` as a whole: health, restarts on the same data, killed workers, clean stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Stack, start_stack, stop_stack
from tests.functions import create_python_function, unique_name, zip_of
from tests.waiting import wait_for


def child_pid(stack: Stack, pattern: str) -> int:
    found = subprocess.run(
        ["pgrep", "-P", str(stack.process.pid), "-f", pattern], capture_output=True, text=True
    ).stdout.split()
    assert len(found) == 1, f"expected one {pattern!r} under tarn up, found {found}"
    return int(found[0])


def role_pid(stack: Stack, role: str) -> int:
    """The worker process running `role`: its own, or the one that runs several roles."""
    return child_pid(stack, f"[-]m workers( [a-z_]+)* {role}( |$)")


def descendants(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in found] + [d for p in found for d in descendants(int(p))]


@pytest.fixture
def own_stack(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A stack of this test's own, which the test may stop, kill parts of and restart."""
    stacks: list[Stack] = []

    def start() -> Stack:
        stacks.append(start_stack(tmp_path / "data", tmp_path / "tarn.log"))
        return stacks[-1]

    yield start
    for stack in stacks:
        if stack.process.poll() is None:
            stop_stack(stack)


def test_health_names_every_component(stack: Stack) -> None:
    health = stack.health() or {}
    # Live processes per role: one each (a worker killed by another test counts for 5 s more).
    instances = health.pop("instances")
    assert set(instances) == {"functions", "pool", "async", "event_sources"}
    assert all(count >= 1 for count in instances.values()), instances
    assert health == {
        "status": "ready",
        "components": {
            "api": "ready",
            "redis": "ready",
            "functions": "ready",
            "pool": "ready",
            "async": "ready",
            "event_sources": "ready",
            "companion": "ready",
        },
    }


def test_functions_survive_a_restart_on_the_same_data_dir(own_stack) -> None:
    stack = own_stack()
    name = unique_name()
    create_python_function(stack.client(), name, Description="kept")
    assert stop_stack(stack) == 0
    again = own_stack()
    config = again.client().get_function_configuration(FunctionName=name)
    assert (config["Description"], config["State"]) == ("kept", "Active")


def test_sigterm_stops_every_process_it_started(own_stack) -> None:
    stack = own_stack()
    children = descendants(stack.process.pid)
    assert len(children) >= 4  # redis, the companion, the API, the workers (one process)
    stack.process.send_signal(signal.SIGINT)
    assert stack.process.wait(timeout=15) == 0
    wait_for(lambda: not any(_alive(pid) for pid in children), 5, "children to exit")
    assert not (stack.data_dir / "redis.sock").exists()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()


def test_command_in_flight_when_worker_is_killed_is_processed_after_restart(own_stack) -> None:
    stack = own_stack()
    client = stack.client()
    name = unique_name()
    create_python_function(client, name)
    worker = role_pid(stack, "functions")
    os.kill(worker, signal.SIGSTOP)  # its blocking read takes the next command, then it hangs
    try:
        updated = client.update_function_configuration(FunctionName=name, Timeout=7)
        assert updated["LastUpdateStatus"] == "InProgress"
        with pytest.raises(ClientError) as error:
            client.update_function_configuration(FunctionName=name, Timeout=8)
        assert error.value.response["Error"]["Code"] == "ResourceConflictException"
        assert error.value.response["Error"]["Message"] == (
            "The operation cannot be performed at this time. An update is in progress for "
            f"resource: arn:aws:lambda:us-east-1:000000000000:function:{name}"
        )
        wait_for(lambda: (stack.health() or {}).get("status") == "starting", 10, "health 503")
    finally:
        os.kill(worker, signal.SIGKILL)
    client.get_waiter("function_updated_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 150}
    )
    config = client.get_function_configuration(FunctionName=name)
    assert (config["Timeout"], config["LastUpdateStatus"]) == (7, "Successful")
    assert role_pid(stack, "functions") != worker


def test_missing_redis_server_is_a_clear_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TARN_")}
    env["PATH"] = str(tmp_path)  # nowhere to find redis-server
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "services.cli",
            "up",
            "--data-dir",
            str(tmp_path / "d"),
            "--port",
            "0",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    assert "redis-server is not installed" in done.stderr
    assert "--redis-url" in done.stderr


def test_misspelt_setting_stops_tarn_up(tmp_path: Path) -> None:
    env = dict(os.environ, TARN_EXECUTOER="process")
    done = subprocess.run(
        [sys.executable, "-m", "services.cli", "up", "--data-dir", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode != 0
    assert "TARN_EXECUTOER is not a Tarn setting" in done.stderr


def test_aws_cli_manages_functions(stack: Stack, tmp_path: Path) -> None:
    name = unique_name("cli")
    created = cli_create_function(stack, tmp_path, name)
    assert '"State": "Pending"' in created.stdout
    aws_cli(stack, "wait", "function-active-v2", "--function-name", name)
    fetched = aws_cli(stack, "get-function", "--function-name", name)
    assert '"State": "Active"' in fetched.stdout
    listed = aws_cli(stack, "list-functions", "--query", "Functions[].FunctionName")
    assert name in listed.stdout
    aws_cli(stack, "delete-function", "--function-name", name)
    missing = aws_cli(stack, "get-function", "--function-name", name, check=False)
    assert missing.returncode != 0
    assert "ResourceNotFoundException" in missing.stderr
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert f"Function not found: {arn}" in missing.stderr


def test_aws_cli_reports_validation_errors(stack: Stack, tmp_path: Path) -> None:
    failed = cli_create_function(stack, tmp_path, unique_name(), "--timeout", "901", check=False)
    assert failed.returncode != 0
    assert "ValidationException" in failed.stderr
    assert "Member must have value less than or equal to 900" in failed.stderr


def cli_create_function(
    stack: Stack, folder: Path, name: str, *options: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    package = folder / "function.zip"
    package.write_bytes(zip_of({"app.py": "def handler(event, context):\n    return event\n"}))
    role = "arn:aws:iam::000000000000:role/r"
    return aws_cli(
        stack,
        "create-function",
        "--function-name",
        name,
        "--runtime",
        "python3.12",
        "--role",
        role,
        "--handler",
        "app.handler",
        "--zip-file",
        f"fileb://{package}",
        *options,
        check=check,
    )


def aws_cli(stack: Stack, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_PAGER="",
    )
    done = subprocess.run(
        [sys.executable, "-m", "awscli", "--endpoint-url", stack.url, "lambda", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done
