"""The process executor's limits: MemorySize and the process cap, enforced as Lambda does."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from bus.quotas import PROCESSES_PER_ENVIRONMENT
from tests.functions import create_python_function, unique_name
from workers.pool.executors.cgroups import CgroupRoot, sweep_stale

ALLOCATING = """\
def handler(event, context):
    held = b"x" * (event["mb"] << 20)  # written, so resident
    return len(held) >> 20
"""


def test_a_function_over_its_memory_size_is_killed_as_lambda_kills_it(lambda_client) -> None:  # type: ignore[no-untyped-def]
    name = unique_name()
    create_python_function(lambda_client, name, ALLOCATING, MemorySize=128)
    fits = lambda_client.invoke(FunctionName=name, Payload=b'{"mb": 40}')
    assert json.loads(fits["Payload"].read()) == 40
    over = lambda_client.invoke(FunctionName=name, Payload=b'{"mb": 600}')
    assert over["FunctionError"] == "Unhandled"
    error = json.loads(over["Payload"].read())
    assert error["errorType"] == "Runtime.ExitError"
    assert error["errorMessage"].endswith("Runtime exited with error: signal: killed")
    again = lambda_client.invoke(FunctionName=name, Payload=b'{"mb": 40}')
    assert json.loads(again["Payload"].read()) == 40


THREADING = """\
import threading, time

def handler(event, context):
    stop = threading.Event()
    started = 0
    try:
        for _ in range(event["threads"]):
            threading.Thread(target=stop.wait, daemon=True).start()
            started += 1
    except RuntimeError:  # "can't start new thread": the environment's process cap
        pass
    stop.set()
    return started
"""


def _cgroups_usable() -> bool:
    root = CgroupRoot.detect(owner_pid=os.getpid())
    if root is not None:
        root.remove()
    return root is not None


@pytest.mark.skipif(
    not _cgroups_usable(), reason="no writable cgroup memory and pids hierarchies here"
)
def test_an_environment_runs_at_most_lambdas_1024_processes_and_threads(lambda_client) -> None:  # type: ignore[no-untyped-def]
    name = unique_name()
    create_python_function(lambda_client, name, THREADING, Timeout=30)
    few = lambda_client.invoke(FunctionName=name, Payload=b'{"threads": 50}')
    assert json.loads(few["Payload"].read()) == 50
    many = lambda_client.invoke(FunctionName=name, Payload=b'{"threads": 3000}')
    started = json.loads(many["Payload"].read())
    assert 900 < started < PROCESSES_PER_ENVIRONMENT


def test_the_cgroups_of_a_pool_worker_that_is_gone_are_removed() -> None:
    root = CgroupRoot.detect(owner_pid=_ended_pid())
    if root is None:
        pytest.skip("no writable cgroup memory and pids hierarchies here")
    group = root.environment("left-behind", 128)
    assert all(folder.is_dir() for folder in group.folders)
    assert sweep_stale() >= 1
    assert not any(base.exists() for base in root.bases)


def _ended_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid
