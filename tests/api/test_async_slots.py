"""The async worker's slots per function version: few for quick invocations, more for slow ones.

Pure scheduling logic, so these run on anyio's clock alone, with no stack.
"""

from __future__ import annotations

import anyio
import pytest

from workers.async_invoke import slots as async_slots
from workers.async_invoke.slots import FIRST_SLOTS, SLOW_INVOKE_S, FunctionSlots

pytestmark = pytest.mark.anyio


async def burst(slots: FunctionSlots, key: str, events: int, duration_s: float) -> int:
    """Run `events` invocations of `duration_s` each through `key`'s slots; the most that
    ran at once."""
    running = most = 0

    async def one() -> None:
        nonlocal running, most
        async with slots.slot(key):
            running += 1
            most = max(most, running)
            await anyio.sleep(duration_s)
            running -= 1

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tasks:
            for _ in range(events):
                tasks.start_soon(one)
    return most


async def test_quick_invocations_keep_the_first_slots() -> None:
    slots = FunctionSlots(256)
    assert await burst(slots, "quick", 400, 0.001) == FIRST_SLOTS


async def test_slow_invocations_get_more_slots_up_to_the_limit() -> None:
    slots = FunctionSlots(48)
    assert await burst(slots, "slow", 400, SLOW_INVOKE_S * 1.5) == 48


async def test_long_invocations_get_more_slots_before_any_has_finished(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(async_slots, "STALL_S", 0.2)
    slots = FunctionSlots(256)
    assert await burst(slots, "long", 64, 1.5) == 64  # 16 more every 0.2 s


async def test_slots_are_per_function_and_forgotten_when_idle() -> None:
    slots = FunctionSlots(256)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(burst, slots, "slow", 200, SLOW_INVOKE_S * 1.5)
        with anyio.fail_after(5):  # grows while its burst runs
            while slots.limit("slow") == FIRST_SLOTS:  # noqa: ASYNC110
                await anyio.sleep(0.01)
        assert slots.limit("other") == FIRST_SLOTS
    assert slots.limit("slow") == FIRST_SLOTS  # idle: the next burst starts small again
