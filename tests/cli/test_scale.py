"""`tarn up --scale pool=2,async=2`: one process per instance, each its own consumer, each
restarted on its own; health counts them; invokes reach both pools; reserved concurrency holds
across them (counted in Redis)."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from services.cli.leftovers import PID_FILE
from tests.conftest import Stack, start_stack, stop_stack
from tests.functions import create_python_function, unique_name
from tests.waiting import wait_for

# The pool's pid is the parent of a process-executor function's runtime.
HANDLER = """\
import os, time

def handler(event, context):
    started = time.time()
    time.sleep(event.get("sleep", 0))
    return {"pool": os.getppid(), "started": started, "ended": time.time()}
"""


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("scaled")
    running = start_stack(
        folder / "data", folder / "tarn.log", settings={"TARN_SCALE": "pool=2,async=2"}
    )
    yield running
    stop_stack(running)


def instances(stack: Stack) -> dict[str, int]:
    return dict((stack.health() or {}).get("instances", {}))


def children(stack: Stack) -> dict[str, int]:
    recorded = json.loads((stack.data_dir / PID_FILE).read_text())
    return {name: pid for name, pid, _started in recorded["children"]}


def invoke(client: Any, name: str, sleep: float) -> dict[str, Any]:
    answer = client.invoke(FunctionName=name, Payload=json.dumps({"sleep": sleep}))
    return dict(json.loads(answer["Payload"].read()))


def test_health_counts_each_instance(scaled: Stack) -> None:
    wanted = {"functions": 1, "pool": 2, "async": 2, "event_sources": 1}
    wait_for(lambda: instances(scaled) == wanted, 20, f"instances {wanted}")
    # The roles not scaled out share one process (TARN_WORKER_LAYOUT=shared, the default).
    assert {"pool-1", "pool-2", "async-1", "async-2", "workers"} <= set(children(scaled))
    shared = Path(f"/proc/{children(scaled)['workers']}/cmdline").read_bytes().split(b"\0")
    assert shared[-3:] == [b"functions", b"event_sources", b""]  # pool and async scaled out


def test_invokes_reach_both_pools(scaled: Stack) -> None:
    client = scaled.client()
    name = unique_name("scale")
    create_python_function(client, name, HANDLER)
    pools = {children(scaled)["pool-1"], children(scaled)["pool-2"]}
    seen: set[int] = set()
    deadline = time.monotonic() + 30
    with ThreadPoolExecutor(6) as threads:
        while seen != pools and time.monotonic() < deadline:
            answers = threads.map(lambda _: invoke(client, name, 0.2), range(6))
            seen |= {answer["pool"] for answer in answers}
    assert seen == pools


def test_reserved_concurrency_holds_across_pools(scaled: Stack) -> None:
    client = scaled.client()
    name = unique_name("reserved")
    create_python_function(client, name, HANDLER)
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    time.sleep(1.2)  # pools refresh their view of the reservations every second

    def attempt(_: int) -> dict[str, Any] | None:
        try:
            return invoke(client, name, 0.5)
        except ClientError as error:
            assert error.response["Error"]["Code"] == "TooManyRequestsException"
            return None

    with ThreadPoolExecutor(6) as threads:
        answers = list(threads.map(attempt, range(6)))
    served = sorted((a for a in answers if a is not None), key=lambda a: a["started"])
    assert served and len(served) < 6, "one ran, the rest were throttled"
    for earlier, later in itertools.pairwise(served):
        assert later["started"] >= earlier["ended"], "two ran at once"


def test_an_instance_is_restarted_on_its_own(scaled: Stack) -> None:
    before = children(scaled)
    os.kill(before["pool-1"], signal.SIGKILL)
    wait_for(lambda: children(scaled)["pool-1"] != before["pool-1"], 20, "pool-1 restarted")
    after = children(scaled)
    assert after["pool-2"] == before["pool-2"] and after["async-1"] == before["async-1"]
    wait_for(lambda: instances(scaled)["pool"] == 2, 20, "two live pools again")


def test_a_bad_scale_is_refused(tmp_path: Path) -> None:
    done = run_cli("up", "--data-dir", str(tmp_path), "--scale", "pool=0", "--port", "0")
    assert done.returncode == 1
    assert "--scale 'pool=0' is not ROLE=N" in done.stderr


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TARN_")}
    argv = [sys.executable, "-m", "services.cli", *args]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)


def test_a_worker_needs_a_role_and_a_redis() -> None:
    unknown = run_cli("worker", "poll")
    assert unknown.returncode == 2 and "'poll' is not a worker role" in unknown.stderr
    alone = run_cli("worker", "pool")
    assert alone.returncode == 1 and "no Redis named: pass --redis-url" in alone.stderr
