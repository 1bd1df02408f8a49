"""A record's numbers come from its invocation's REPORT line, as the pool writes it."""

from __future__ import annotations

from bus.invocation_records import parse_report
from workers.pool.logs import report_line


def test_report_numbers_are_read_back_from_the_report_line() -> None:
    line = report_line("id-1", duration_ms=12.345, memory_mb=256, max_memory_mb=40, init_ms=101.5)
    log = f"START RequestId: id-1 Version: 1\nhello\nEND RequestId: id-1\n{line}\n".encode()
    assert parse_report(log) == {
        "Duration": 12.35,
        "Billed Duration": 114.0,
        "Memory Size": 256.0,
        "Max Memory Used": 40.0,
        "Init Duration": 101.5,
    }


def test_a_log_without_a_report_line_gives_no_numbers() -> None:
    assert parse_report(b"START RequestId: x\nsome output\n") == {}
