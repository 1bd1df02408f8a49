"""Function logs in CloudWatch Logs through a whole stack: batched, yet there within 2 s of an
invocation, and a batch still waiting when the stack stops is not lost (the pool sends it
on its way out, and the companion keeps it in its snapshot for the next start)."""

from __future__ import annotations

import time
from pathlib import Path

from tests.conftest import Stack, start_stack, stop_stack
from tests.functions import create_python_function, unique_name

MARKED = """
def handler(event, context):
    print("marker", event["marker"])
    return "ok"
"""


def messages(stack: Stack, name: str) -> list[str]:
    logs = stack.client("logs")
    try:
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    return [event["message"] for event in events]


def test_a_log_is_there_within_2_s_and_the_last_batch_outlives_a_stop(tmp_path: Path) -> None:
    stack = start_stack(tmp_path / "data", tmp_path / "tarn.log")
    name = unique_name("logged")
    try:
        create_python_function(stack.client(), name, MARKED)
        stack.client().invoke(FunctionName=name, Payload=b'{"marker": "first"}')
        invoked = time.monotonic()
        while not any("marker first" in m for m in messages(stack, name)):
            assert time.monotonic() - invoked < 2.0, "the log took over 2 s to arrive"
            time.sleep(0.05)
        stack.client().invoke(FunctionName=name, Payload=b'{"marker": "last"}')
    finally:
        assert stop_stack(stack) == 0  # at once: the last batch is still waiting
    again = start_stack(tmp_path / "data", tmp_path / "again.log")
    try:
        assert any("marker last" in m for m in messages(again, name))
    finally:
        stop_stack(again)
