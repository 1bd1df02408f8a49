"""EventBridge schedules, which moto never fires: a thread of the companion that follows every
enabled rule with a ScheduleExpression and, when it is due, sends AWS's scheduled event to the
rule's targets (functions through Tarn's async path, the rest through moto).
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from moto.events.exceptions import ValidationException
from moto.events.models import EventsBackend, Rule, events_backends

from services.companion.triggers import deliveries as triggers
from services.companion.triggers.schedules import InvalidSchedule, Schedule, parse

log = logging.getLogger("tarn.companion")
MAX_SLEEP_S = 1.0  # a new or changed rule is noticed within this
MIN_SLEEP_S = 0.02

PUT_RULE_PARAMETERS = ("self", "name", "description", "event_bus_arn", "event_pattern", "role_arn")
HOOKED: list[tuple[object, str, tuple[str, ...]]] = [
    (EventsBackend, "put_rule", (*PUT_RULE_PARAMETERS, "scheduled_expression")),
]


def install() -> None:
    """PutRule refuses a schedule EventBridge would (moto checks only `cron(` or `rate(`)."""
    put_rule: Callable[..., Rule] = EventsBackend.put_rule

    def put_checked_rule(self: EventsBackend, name: str, *args: Any, **kwargs: Any) -> Rule:
        expression = kwargs.get("scheduled_expression")
        if expression:
            try:
                parse(expression)
            except InvalidSchedule:
                raise ValidationException("Parameter ScheduleExpression is not valid.") from None
        return put_rule(self, name, *args, **kwargs)

    EventsBackend.put_rule = put_checked_rule  # type: ignore[method-assign]


@dataclass
class Due:
    """A followed rule: its expression, parsed, and the clock time it next fires."""

    expression: str
    schedule: Schedule | None  # None: not an expression AWS takes; it never fires
    at: datetime.datetime | None


class Clock:
    """The wall clock, or one `speedup` times faster from its start (a test clock)."""

    def __init__(self, speedup: float) -> None:
        self.speedup = max(speedup, 1.0)
        self.origin = time.time()

    def now(self) -> datetime.datetime:
        seconds = self.origin + (time.time() - self.origin) * self.speedup
        return datetime.datetime.fromtimestamp(seconds, datetime.UTC)

    def real_seconds_until(self, moment: datetime.datetime) -> float:
        return (moment - self.now()).total_seconds() / self.speedup


def scheduled_event(rule: Rule, at: datetime.datetime) -> dict[str, Any]:
    """What AWS sends a target of a schedule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": rule.account_id,
        "time": int(at.timestamp()),  # as moto's events carry it; targets get it in ISO 8601
        "region": rule.region_name,
        "resources": [rule.arn],
        "detail": {},
        "ingestion-time": time.time(),  # moto's senders read it; functions never see it
    }


class Scheduler:
    """`start` it once moto's backends are in place; `stop` ends the thread."""

    def __init__(self, speedup: float, on_change: Callable[[bool], None]) -> None:
        self.clock = Clock(speedup)
        self.on_change = on_change
        self.followed: dict[str, Due] = {}  # by rule ARN
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="schedules", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            try:
                sleep_s = self.tick()
            except Exception:
                log.exception("the schedule of EventBridge rules failed; trying again")
                sleep_s = MAX_SLEEP_S
            if self._stop.wait(sleep_s):
                return

    def tick(self) -> float:
        """Fire what is due; the seconds until the next check."""
        now = self.clock.now()
        rules = dict(scheduled_rules())
        for arn in set(self.followed) - set(rules):
            del self.followed[arn]  # deleted, disabled, or its schedule removed
        sleep_s = MAX_SLEEP_S
        for arn, rule in rules.items():
            due = self._follow(arn, rule, now)
            if due.schedule is not None and due.at is not None and due.at <= now:
                self._fire(rule, due.at)
                due.at = due.schedule.next_after(max(due.at, now))  # one catch-up, not a burst
            if due.at is not None:
                sleep_s = min(sleep_s, self.clock.real_seconds_until(due.at))
        return max(sleep_s, MIN_SLEEP_S)

    def _follow(self, arn: str, rule: Rule, now: datetime.datetime) -> Due:
        """The rule's entry; a new or changed expression starts from now."""
        expression = str(rule.scheduled_expression)
        due = self.followed.get(arn)
        if due is None or due.expression != expression:
            try:
                schedule = parse(expression)
            except InvalidSchedule as exc:
                log.warning("rule %s never fires: %s", arn, exc)
                due = Due(expression, None, None)
            else:
                due = Due(expression, schedule, schedule.next_after(now))
            self.followed[arn] = due
        return due

    def _fire(self, rule: Rule, at: datetime.datetime) -> None:
        log.info("schedule of %s fires (%s)", rule.arn, rule.scheduled_expression)
        try:
            if triggers.deliver(rule, scheduled_event(rule, at)):
                self.on_change(False)  # a queue or log group moto serves changed
        except Exception:  # as on AWS, a target that cannot be reached misses this one
            log.exception("a target of %s missed its scheduled event", rule.arn)


def scheduled_rules() -> Iterator[tuple[str, Rule]]:
    """Every enabled rule with a schedule, in every account and region moto holds; copies of the
    containers, as requests change them meanwhile."""
    for regions in list(dict.values(events_backends)):
        for backend in list(dict.values(regions)):
            for bus in list(backend.event_buses.values()):
                for rule in list(bus.rules.values()):
                    if rule.scheduled_expression and rule.state != "DISABLED":
                        yield rule.arn, rule
