"""EventBridge schedule expressions: when rate(...) and AWS's six-field cron(...) next fire."""

from __future__ import annotations

import datetime

import pytest

from services.companion.triggers.schedules import InvalidSchedule, parse

# A Saturday.
NOW = datetime.datetime(2026, 11, 28, 11, 35, 20, tzinfo=datetime.UTC)


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("rate(1 minute)", "2026-11-28T11:36:20"),
        ("rate(5 minutes)", "2026-11-28T11:40:20"),
        ("rate(2 hours)", "2026-11-28T13:35:20"),
        ("rate(1 day)", "2026-11-29T11:35:20"),
        ("cron(* * * * ? *)", "2026-11-28T11:36:00"),
        ("cron(0/15 * * * ? *)", "2026-11-28T11:45:00"),
        ("cron(0 10 * * ? *)", "2026-11-29T10:00:00"),
        ("cron(0,30 9-10 * * ? *)", "2026-11-29T09:00:00"),
        ("cron(0 18 ? * MON-FRI *)", "2026-11-30T18:00:00"),
        ("cron(0 18 ? * 2-6 *)", "2026-11-30T18:00:00"),  # 1 is Sunday
        ("cron(5 0 ? * FRI-MON 2027)", "2027-01-01T00:05:00"),  # a range that wraps
        ("cron(15 12 L * ? *)", "2026-11-30T12:15:00"),
        ("cron(0 0 L-1 * ? *)", "2026-11-29T00:00:00"),
        ("cron(0 0 1W * ? *)", "2026-12-01T00:00:00"),
        ("cron(0 0 LW * ? *)", "2026-11-30T00:00:00"),
        ("cron(0 8 ? * 6L *)", "2026-12-25T08:00:00"),  # the last Friday
        ("cron(0 9 ? * MON#1 *)", "2026-12-07T09:00:00"),
        ("cron(0 0 1 JAN ? *)", "2027-01-01T00:00:00"),
        ("cron(0 0 29 2 ? *)", "2028-02-29T00:00:00"),
    ],
)
def test_an_expression_next_fires_as_on_aws(expression: str, expected: str) -> None:
    assert parse(expression).next_after(NOW) == at(expected)


def test_a_cron_whose_years_are_past_never_fires_again() -> None:
    assert parse("cron(0 0 1 1 ? 2020)").next_after(NOW) is None


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minutes)",
        "rate(2 minute)",
        "rate(0 minutes)",
        "rate(5 seconds)",
        "cron(* * * * *)",  # five fields: AWS's cron has a year
        "cron(0 10 * * * *)",  # neither day field is '?'
        "cron(0 10 ? * ? *)",
        "cron(60 * * * ? *)",
        "cron(0 0 ? * 8 *)",
        "cron(0 0 ? * MON#6 *)",
        "every minute",
    ],
)
def test_an_expression_aws_refuses_is_refused(expression: str) -> None:
    with pytest.raises(InvalidSchedule):
        parse(expression)
