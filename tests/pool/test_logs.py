"""An environment's log cut into invocations, and the AWS wording of its special lines."""

from __future__ import annotations

import logging
import re

import anyio.lowlevel
import pytest

from workers.pool.environments import exit_reason
from workers.pool.logs import EnvironmentLog, report_line, timeout_line


def test_an_invocation_log_frames_its_output_and_keeps_unfinished_lines(caplog):
    caplog.set_level(logging.INFO, logger="tarn.functions")
    log = EnvironmentLog("fn")
    log.feed(b"init says hi")  # no newline yet when the event starts
    log.begin("r1", "$LATEST")
    log.feed(b"one\ntw")
    log.feed(b"o\nno newline")
    tail = log.end("r1", "REPORT RequestId: r1\tDuration: 1.00 ms\t")
    assert tail.decode().splitlines() == [
        "init says hi",
        "START RequestId: r1 Version: $LATEST",
        "one",
        "two",
        "no newline",
        "END RequestId: r1",
        "REPORT RequestId: r1\tDuration: 1.00 ms\t",
    ]
    worker_lines = "\n".join(record.getMessage() for record in caplog.records).splitlines()
    assert "[fn] init says hi" in worker_lines
    assert "[fn r1] two" in worker_lines
    assert "[fn r1] no newline" in worker_lines
    assert worker_lines[-1] == "[fn r1] REPORT RequestId: r1\tDuration: 1.00 ms\t"
    log.begin("r2", "$LATEST")
    assert log.end("r2", "REPORT").startswith(b"START RequestId: r2")


def test_the_tail_is_the_last_4_kb():
    log = EnvironmentLog("fn")
    log.begin("r1", "1")
    for _ in range(100):
        log.feed(b"y" * 999 + b"\n")
    tail = log.end("r1", "REPORT")
    assert len(tail) == 4096
    assert tail.endswith(b"y\nEND RequestId: r1\nREPORT\n")


def test_report_line_has_aws_fields_and_tabs():
    line = report_line("r", duration_ms=1.234, memory_mb=128, max_memory_mb=40, init_ms=99.5)
    assert line == (
        "REPORT RequestId: r\tDuration: 1.23 ms\tBilled Duration: 101 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 99.50 ms\t"
    )


def test_timeout_line_is_timestamped_like_aws():
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z r Task timed out after 3\.00 seconds",
        timeout_line("r", 3),
    )


@pytest.mark.parametrize(
    ("status", "reason"),
    [(3, "exit status 3"), (0, "exit status 0"), (-9, "signal: killed"), (-6, "signal: aborted")],
)
def test_exit_reasons_read_like_go(status, reason):
    assert exit_reason(status) == reason


@pytest.mark.anyio
async def test_in_a_loop_the_lines_go_on_at_the_next_turn_in_order(caplog):
    caplog.set_level(logging.INFO, logger="tarn.functions")
    shipped: list[str] = []
    log = EnvironmentLog("fn", lambda events: shipped.extend(line for _, line in events))
    log.begin("r1", "1")
    log.feed(b"one\n")
    tail = log.end("r1", "REPORT 1")
    assert b"one\nEND RequestId: r1\nREPORT 1\n" in tail  # the tail at once, for the reply
    assert shipped == [] and not caplog.records  # the rest after it, at the next turn
    log.feed(b"between\n")
    log.begin("r2", "1")
    log.end("r2", "REPORT 2")
    await anyio.lowlevel.checkpoint()
    assert shipped == [
        "START RequestId: r1 Version: 1",
        "one",
        "END RequestId: r1",
        "REPORT 1",
        "between",
        "START RequestId: r2 Version: 1",
        "END RequestId: r2",
        "REPORT 2",
    ]
    worker_lines = "\n".join(record.getMessage() for record in caplog.records).splitlines()
    assert worker_lines == [f"[fn r1] {line}" for line in shipped[:4]] + [
        "[fn] between",
        *(f"[fn r2] {line}" for line in shipped[5:]),
    ]
