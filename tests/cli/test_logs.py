"""`tarn lambda logs`: a function's CloudWatch lines, once and live with --follow."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from pathlib import Path

from tests.cli.conftest import Tarn, cli_env, python_package
from tests.conftest import Stack
from tests.functions import unique_name
from tests.waiting import wait_for

GREETER = "def handler(event, context):\n    print('hello from', event['n'])\n    return 1\n"
# The issue asks for a new invocation within a second; the log is shipped at its end, and
# this machine is shared, so the test allows a few.
FOLLOW_WITHIN_S = 5


def create_greeter(tarn: Tarn, tmp_path: Path) -> str:
    name = unique_name("logs")
    python_package(tmp_path, GREETER)
    created = tarn("create", "-n", name, "--runtime", "python3.12", "--handler", "app.handler",
                   "--zip", "function.zip")  # fmt: skip
    assert created.returncode == 0, created.stderr
    return name


def test_logs_prints_the_invocations_lines(tarn: Tarn, tmp_path: Path) -> None:
    name = create_greeter(tarn, tmp_path)
    assert tarn("invoke", "-n", name, "--payload", '{"n": 1}').returncode == 0
    wait_for(lambda: "REPORT RequestId" in tarn("logs", "-n", name).stdout, what="the log")
    text = tarn("logs", "-n", name, "--since", "5m").stdout
    assert "hello from 1" in text
    lines = [
        json.loads(line) for line in tarn("logs", "-n", name, "-o", "json").stdout.splitlines()
    ]
    assert any(line["message"].startswith("hello from 1") for line in lines)
    assert all(set(line) == {"timestamp", "logStreamName", "message"} for line in lines)


def test_logs_of_a_function_without_logs_prints_nothing(tarn: Tarn) -> None:
    result = tarn("logs", "-n", unique_name("silent"))
    assert (result.returncode, result.stdout) == (0, "")


def test_logs_follow_sees_a_new_invocation(tarn: Tarn, tmp_path: Path, stack: Stack) -> None:
    name = create_greeter(tarn, tmp_path)
    follower = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "lambda", "logs", "-n", name, "--follow"],
        cwd=Path(__file__).parents[2],
        env=cli_env(stack.url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        time.sleep(1.5)  # the follower is polling before the invocation
        invoked_at = time.monotonic()
        assert tarn("invoke", "-n", name, "--payload", '{"n": 2}').returncode == 0
        seen = read_until(follower, "hello from 2", FOLLOW_WITHIN_S)
        assert "hello from 2" in seen, seen
        assert time.monotonic() - invoked_at < FOLLOW_WITHIN_S
    finally:
        follower.terminate()
        follower.wait(timeout=10)
        assert follower.stdout is not None and follower.stderr is not None
        follower.stdout.close()
        follower.stderr.close()


def read_until(process: subprocess.Popen[bytes], text: str, timeout_s: float) -> str:
    """What the process printed until `text`; raw reads, as a buffered reader would hold
    lines the selector no longer reports."""
    assert process.stdout is not None
    seen = ""
    deadline = time.monotonic() + timeout_s
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while text not in seen and time.monotonic() < deadline:
            if selector.select(timeout=deadline - time.monotonic()):
                seen += os.read(process.stdout.fileno(), 65536).decode()
    return seen
