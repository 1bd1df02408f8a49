"""How many Event invocations of one function version the async worker runs at once.

AWS scales a function by up to 1,000 environments every 10 seconds
(https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html). Locally an environment
is a process or container whose cold start costs far more than a warm invoke, so a burst of
quick events drains faster through a few warm environments than through hundreds of new ones.
Each function version starts with a few slots and gains more only while its invocations take
long: then its own duration, not the machine, is what holds its events back.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio

FIRST_SLOTS = 16
SLOTS_STEP = 16
# Grow when even the quickest of WINDOW invocations since the last growth took longer than
# SLOW_INVOKE_S. Under load a quick function's invocations take about slots / throughput
# (Little's law), so growth stops by itself once queueing, not the function, sets the pace;
# a slow function's take its own duration, and it grows up to the worker's limit. WINDOW is
# twice the first slots, so the cold starts of new slots do not make a quick function look slow.
WINDOW = 2 * FIRST_SLOTS
SLOW_INVOKE_S = 0.1
# Also grow when events have waited this long and no slot came free meanwhile: a function that
# runs for minutes must not wait for WINDOW of them to finish first. Longer than a cold start.
STALL_S = 2.0


class _Slots:
    """One function version's slots: a semaphore that grows, and recent invocation times."""

    def __init__(self, most: int) -> None:
        self.limit = min(FIRST_SLOTS, most)
        self.most = most
        self.users = 0  # tasks holding or waiting for a slot
        self.free = anyio.Semaphore(self.limit)
        self.durations: list[float] = []
        self.changed_at = time.monotonic()  # when a slot was last taken, or slots added

    async def acquire(self) -> None:
        while True:
            with anyio.move_on_after(STALL_S):
                await self.free.acquire()
                self.changed_at = time.monotonic()
                return
            if time.monotonic() - self.changed_at >= STALL_S:
                self._grow()

    def note(self, duration_s: float) -> None:
        """One invocation took `duration_s`; every WINDOW of them, grow if all were slow."""
        self.durations.append(duration_s)
        if len(self.durations) < WINDOW:
            return
        slow = min(self.durations) > SLOW_INVOKE_S
        self.durations.clear()
        if slow and self.free.statistics().tasks_waiting:
            self._grow()

    def _grow(self) -> None:
        step = min(SLOTS_STEP, self.most - self.limit)
        self.limit += step
        self.changed_at = time.monotonic()
        for _ in range(step):
            self.free.release()


class FunctionSlots:
    """Slots per function version, kept only while some of its events are running or waiting."""

    def __init__(self, most: int) -> None:
        self.most = most
        self._slots: dict[str, _Slots] = {}

    def limit(self, key: str) -> int:
        """The slots `key` has now (FIRST_SLOTS when none of its events is about)."""
        slots = self._slots.get(key)
        return min(FIRST_SLOTS, self.most) if slots is None else slots.limit

    @asynccontextmanager
    async def slot(self, key: str) -> AsyncIterator[None]:
        """Hold one of `key`'s slots (waiting for one if need be) for the duration."""
        slots = self._slots.get(key)
        if slots is None:
            slots = self._slots[key] = _Slots(self.most)
        slots.users += 1
        try:
            await slots.acquire()
            started = time.monotonic()
            try:
                yield
            finally:
                slots.free.release()
                slots.note(time.monotonic() - started)
        finally:
            slots.users -= 1
            if not slots.users:
                del self._slots[key]
