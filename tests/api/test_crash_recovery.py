"""Crashes on a real stack: a SIGKILLed `tarn up` leaves nothing running and the next one starts
on its data dir; a killed pool worker's invokes answer at once; Redis comes back by itself."""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import pytest
from redis import Redis

from bus.processes import start_time
from tests.api.test_stack import child_pid, descendants, role_pid
from tests.conftest import start_stack, stop_stack
from tests.functions import create_python_function, unique_name
from tests.waiting import wait_for

# A function that leaves a `setsid` daemon behind, as a careless handler may.
DAEMONIZING = """\
import subprocess
def handler(event, context):
    subprocess.Popen(["setsid", "sleep", "300"], start_new_session=True)
    return "started"
"""


def alive(processes: dict[int, int | None]) -> list[int]:
    return [pid for pid, started in processes.items() if started and start_time(pid) == started]


@pytest.mark.slow
def test_sigkill_of_tarn_up_leaves_no_process_and_the_next_one_starts(tmp_path: Path) -> None:
    stack = start_stack(tmp_path / "data", tmp_path / "tarn.log")
    try:
        client = stack.client()
        name = unique_name()
        create_python_function(client, name, DAEMONIZING)
        assert client.invoke(FunctionName=name)["StatusCode"] == 200
        tree = {pid: start_time(pid) for pid in descendants(stack.process.pid)}
        names = {pid: Path(f"/proc/{pid}/cmdline").read_bytes()[:60] for pid in tree}
    finally:  # killed whatever happened: what follows checks what the kill leaves
        stack.process.kill()
        stack.process.wait(timeout=10)
    killed = time.monotonic()
    # redis, the companion, the API, the workers (one process), the runtime, its daemon
    assert len(tree) >= 6, tree
    while alive(tree) and time.monotonic() < killed + 10:
        time.sleep(0.05)
    print(f"{len(tree)} processes; all gone {time.monotonic() - killed:.1f} s after the kill")
    assert not alive(tree), [names[pid] for pid in alive(tree)]
    again = start_stack(tmp_path / "data", tmp_path / "tarn.log")
    try:
        assert again.client().get_function(FunctionName=name)["Configuration"]["State"]
    finally:
        stop_stack(again)


@pytest.mark.slow
def test_a_new_tarn_up_ends_what_a_crashed_one_left_and_takes_its_port(tmp_path: Path) -> None:
    stack = start_stack(tmp_path / "data", tmp_path / "tarn.log")
    api = child_pid(stack, "services.cli.server")
    os.kill(api, signal.SIGSTOP)  # holds the port and ignores SIGTERM, as a hung leftover would
    redis = child_pid(stack, "redis-server")
    stack.process.kill()
    stack.process.wait(timeout=10)
    port = int(stack.url.rsplit(":", 1)[1])
    again = start_stack(tmp_path / "data", tmp_path / "tarn.log", port=port)
    try:
        assert (again.health() or {}).get("status") == "ready"
        told = [
            line
            for line in again.log_path.read_text().splitlines()
            if line.startswith("tarn: a Tarn that did not stop had left ")
        ]
        assert told and f"api (pid {api})" in told[0]  # the companion may still be stopping too
        for pid in (api, redis):
            wait_for(lambda pid=pid: start_time(pid) is None, timeout_s=10, what=f"{pid} to end")
    finally:
        stop_stack(again)


SLEEPING = "import time\ndef handler(event, context):\n    time.sleep(5)\n    return 'slept'\n"


@pytest.mark.slow
def test_invokes_held_by_a_killed_pool_worker_are_answered_at_once(tmp_path: Path) -> None:
    stack = start_stack(tmp_path / "data", tmp_path / "tarn.log")
    try:
        client = stack.client()
        name = unique_name()
        create_python_function(client, name, SLEEPING, Timeout=60)
        with ThreadPoolExecutor(20) as threads:
            calls = [threads.submit(client.invoke, FunctionName=name) for _ in range(20)]
            pool = role_pid(stack, "pool")
            wait_for(lambda: len(descendants(pool)) >= 20, timeout_s=20, what="20 runtimes")
            time.sleep(0.5)  # each in its handler
            os.kill(pool, signal.SIGKILL)
            killed = time.monotonic()
            answers = [call.result(timeout=30) for call in calls]
            took = time.monotonic() - killed
        print(f"20 invokes answered {took:.1f} s after the pool was killed")
        assert took < 10, took
        for answer in answers:
            assert answer["FunctionError"] == "Unhandled"
            error = json.loads(answer["Payload"].read())
            assert error["errorType"] == "Runtime.ExitError"
            assert error["errorMessage"].endswith("Runtime exited with error: signal: killed")
        assert client.invoke(FunctionName=name)["Payload"].read() == b'"slept"'
    finally:
        stop_stack(stack)


@pytest.mark.slow
def test_redis_killed_comes_back_with_its_functions(tmp_path: Path) -> None:
    stack = start_stack(tmp_path / "data", tmp_path / "tarn.log")
    try:
        client = stack.client()
        name = unique_name()
        create_python_function(client, name)
        time.sleep(1.2)  # appendfsync everysec
        redis = child_pid(stack, "redis-server")
        os.kill(redis, signal.SIGSTOP)  # unanswering first, so that health is seen to drop
        wait_for(lambda: (stack.health() or {}).get("status") != "ready", 10, "health to drop")
        os.kill(redis, signal.SIGKILL)
        killed = time.monotonic()
        wait_for(lambda: (stack.health() or {}).get("status") == "ready", 20, "health again")
        print(f"healthy again {time.monotonic() - killed:.1f} s after redis-server was killed")
        answer = client.invoke(FunctionName=name, Payload=b'{"back": true}')
        assert answer["Payload"].read() == b'{"back": true}'
        assert stack.process.poll() is None
    finally:
        stop_stack(stack)


RECORDING = """\
def handler(event, context):
    with open(event["log"], "a") as log:
        log.write(context.aws_request_id + "\\n")
"""
EVENTS = 1000


@pytest.mark.slow
def test_events_survive_an_async_worker_kill_once_each_and_none_dead_lettered(
    tmp_path: Path,
) -> None:
    # The async worker alone is killed (in the default layout, every role would go with it).
    split = {"TARN_WORKER_LAYOUT": "split"}
    stack = start_stack(tmp_path / "data", tmp_path / "tarn.log", settings=split)
    runs = tmp_path / "runs.txt"
    try:
        client = stack.client()
        name = unique_name()
        create_python_function(client, name, RECORDING)
        payload = json.dumps({"log": str(runs)}).encode()
        send = partial(client.invoke, FunctionName=name, InvocationType="Event", Payload=payload)
        with ThreadPoolExecutor(8) as threads:
            accepted = [threads.submit(send) for _ in range(EVENTS)]
            wait_for(lambda: runs.exists() and len(runs.read_text()) > 0, 20, "a first run")
            os.kill(role_pid(stack, "async"), signal.SIGKILL)
            assert all(call.result(timeout=60)["StatusCode"] == 202 for call in accepted)
        ran = lambda: Counter(runs.read_text().split())  # noqa: E731
        wait_for(lambda: len(ran()) >= EVENTS, 60, "every event to run")
        time.sleep(2)  # any late repeat
        counts = ran()
        print(
            f"{EVENTS} events: {sum(counts.values()) - EVENTS} repeats, "
            f"{sum(1 for c in counts.values() if c > 2)} ran more than twice"
        )
        assert len(counts) == EVENTS
        # An attempt the pool finished is never run again (the pool keeps its outcome for
        # the async worker's successor); only one published but not yet taken up may be.
        assert sum(counts.values()) - EVENTS <= EVENTS // 100
        dead = Redis(unix_socket_path=str(tmp_path / "data" / "redis.sock"))
        assert dead.xlen("tarn:stream:dead-letters") == 0
        dead.close()
    finally:
        stop_stack(stack)
