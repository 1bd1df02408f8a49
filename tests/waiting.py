"""Polling with a deadline, for tests that wait on another process."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import anyio


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 10) -> None:
    """Wait until `check()` is true; fail the test after `timeout_s`."""
    with anyio.fail_after(timeout_s):
        while not await check():  # noqa: ASYNC110 (the condition lives in another process)
            await anyio.sleep(0.02)


def wait_for(check: Callable[[], bool], timeout_s: float = 10, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)
