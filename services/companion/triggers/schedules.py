"""EventBridge schedule expressions: `rate(value unit)` and AWS's six-field `cron(minutes hours
day-of-month month day-of-week year)`, with `? L W #`, in UTC; each answers when it next fires.
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html
"""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass

RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
CRON = re.compile(r"^cron\((.*)\)$")
UNIT_S = {"minute": 60, "hour": 3600, "day": 86400}
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")  # AWS numbers them 1-7
LAST_YEAR = 2199  # AWS's year range ends here: a cron with no later match never fires again
MINUTE = datetime.timedelta(minutes=1)

DayTest = Callable[[datetime.date], bool]


class InvalidSchedule(ValueError):
    """Not an expression EventBridge accepts."""


@dataclass(frozen=True)
class Rate:
    period: datetime.timedelta

    def next_after(self, moment: datetime.datetime) -> datetime.datetime | None:
        return moment + self.period


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    years: frozenset[int]
    day: DayTest

    def next_after(self, moment: datetime.datetime) -> datetime.datetime | None:
        """The first matching minute strictly after `moment`; None if none is left."""
        start = moment.replace(second=0, microsecond=0) + MINUTE
        date = start.date()
        while date.year <= LAST_YEAR:
            if date.year not in self.years:
                date = datetime.date(date.year + 1, 1, 1)
            elif date.month not in self.months:
                date = _first_of_next_month(date)
            else:
                if self.day(date):
                    found = self._time_on(date, start)
                    if found:
                        return found
                date += datetime.timedelta(days=1)
        return None

    def _time_on(self, date: datetime.date, start: datetime.datetime) -> datetime.datetime | None:
        for hour in sorted(self.hours):
            for minute in sorted(self.minutes):
                at = datetime.datetime(
                    date.year, date.month, date.day, hour, minute, tzinfo=start.tzinfo
                )
                if at >= start:
                    return at
        return None


Schedule = Rate | Cron


def parse(expression: str) -> Schedule:
    """A `rate(...)` or `cron(...)` expression; InvalidSchedule otherwise."""
    rate = RATE.match(expression.strip())
    if rate:
        return _rate(int(rate.group(1)), rate.group(2))
    cron = CRON.match(expression.strip())
    if cron:
        return _cron(cron.group(1).split())
    raise InvalidSchedule(f"not a rate(...) or cron(...) expression: {expression}")


def _rate(value: int, unit: str) -> Rate:
    if value < 1 or (value == 1) != (not unit.endswith("s")):
        raise InvalidSchedule("a rate of 1 takes a singular unit, and a larger one a plural")
    return Rate(datetime.timedelta(seconds=value * UNIT_S[unit.rstrip("s")]))


def _cron(fields: list[str]) -> Cron:
    if len(fields) != 6:
        raise InvalidSchedule(
            "cron(...) takes six fields: minutes hours day-of-month month day-of-week year"
        )
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise InvalidSchedule("exactly one of day-of-month and day-of-week must be '?'")
    return Cron(
        minutes=_values(minutes, 0, 59),
        hours=_values(hours, 0, 23),
        months=_values(month, 1, 12, MONTHS),
        years=_values(year, 1970, LAST_YEAR),
        day=_day_of_month(dom) if dow == "?" else _day_of_week(dow),
    )


def _values(field: str, low: int, high: int, names: tuple[str, ...] = ()) -> frozenset[int]:
    """The values a list of `*`, `n`, `a-b`, each with an optional `/step`, stands for."""
    found: set[int] = set()
    for item in field.split(","):
        span, _, step_text = item.partition("/")
        step = _number(step_text, 1, high - low + 1) if step_text else 1
        if span == "*":
            first, last = low, high
        elif "-" in span:
            first, last = (_number(part, low, high, names) for part in span.split("-", 1))
        else:
            first = _number(span, low, high, names)
            last = high if step_text else first
        cycle = list(range(low, high + 1))
        # A range that wraps (FRI-MON) runs to the end and on from the start, as in Quartz.
        run = (
            cycle[first - low : last - low + 1]
            if first <= last
            else cycle[first - low :] + cycle[: last - low + 1]
        )
        found.update(run[::step])
    return frozenset(found)


def _number(text: str, low: int, high: int, names: tuple[str, ...] = ()) -> int:
    name = text.upper()
    value = low + names.index(name) if name in names else int(text) if text.isdigit() else None
    if value is None or not low <= value <= high:
        raise InvalidSchedule(f"{text!r} is not a value between {low} and {high}")
    return value


def _day_of_month(field: str) -> DayTest:
    """`*`, lists and ranges, `L` (the last day), `L-n`, `nW` (the weekday nearest n), `LW`."""
    if field in ("L", "LW") or field.startswith("L-"):
        offset = int(field[2:]) if field.startswith("L-") else 0
        weekday = field == "LW"

        def last(date: datetime.date) -> bool:
            target = _days_in(date) - offset
            return date.day == (_nearest_weekday(date, target) if weekday else target)

        return last
    if field.endswith("W"):
        wanted = _number(field[:-1], 1, 31)
        return lambda date: date.day == _nearest_weekday(date, wanted)
    days = _values(field, 1, 31)
    return lambda date: date.day in days


def _day_of_week(field: str) -> DayTest:
    """`*`, lists and ranges (1-7 or SUN-SAT), `nL` (the month's last such day), `n#k` (its
    k-th)."""
    if "#" in field:
        day_text, nth_text = field.split("#", 1)
        day, nth = _number(day_text, 1, 7, DAYS), _number(nth_text, 1, 5)
        return lambda date: _aws_weekday(date) == day and (date.day - 1) // 7 + 1 == nth
    if field.endswith("L") and len(field) > 1:
        day = _number(field[:-1], 1, 7, DAYS)
        return lambda date: _aws_weekday(date) == day and date.day + 7 > _days_in(date)
    days = _values("7" if field == "L" else field, 1, 7, DAYS)
    return lambda date: _aws_weekday(date) in days


def _aws_weekday(date: datetime.date) -> int:
    return (date.weekday() + 1) % 7 + 1  # Monday is 0 in Python, 2 in AWS's cron


def _days_in(date: datetime.date) -> int:
    return calendar.monthrange(date.year, date.month)[1]


def _nearest_weekday(date: datetime.date, day: int) -> int:
    """The weekday nearest `day` of the month, never leaving the month (Quartz's W)."""
    day = min(day, _days_in(date))
    weekday = datetime.date(date.year, date.month, day).weekday()
    if weekday == 5:  # Saturday: the Friday before, or the Monday after on the 1st
        return day - 1 if day > 1 else day + 2
    if weekday == 6:  # Sunday: the Monday after, or the Friday before on the last day
        return day + 1 if day < _days_in(date) else day - 2
    return day


def _first_of_next_month(date: datetime.date) -> datetime.date:
    return datetime.date(date.year + date.month // 12, date.month % 12 + 1, 1)
