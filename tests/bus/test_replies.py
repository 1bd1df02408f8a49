"""Request/reply over a real Redis: replies reach their waiter, even when they come early."""

from __future__ import annotations

import anyio
import pytest
from redis.asyncio import Redis

from bus.concurrency import inbox_with_limits
from bus.keys import Keys
from bus.messages import InvocationCompleted
from bus.settings import Settings
from bus.transport.replies import send_reply

pytestmark = pytest.mark.anyio


def completed(request_id: str) -> InvocationCompleted:
    return InvocationCompleted(request_id=request_id, payload=b"{}", executed_version="$LATEST")


async def test_reply_reaches_its_waiter(redis: Redis, keys: Keys) -> None:
    inbox = inbox_with_limits(redis, keys, Settings())
    await inbox.open()
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(inbox.run)
        inbox.expect("r1")
        inbox.expect("r2")
        await send_reply(redis, inbox.key, completed("r2"))
        await send_reply(redis, inbox.key, completed("r1"))
        assert await inbox.wait("r1", 5) == completed("r1")
        assert await inbox.wait("r2", 5) == completed("r2")
        tasks.cancel_scope.cancel()


async def test_reply_sent_before_the_reader_started_is_not_lost(redis: Redis, keys: Keys) -> None:
    inbox = inbox_with_limits(redis, keys, Settings())
    await inbox.open()
    inbox.expect("early")
    await send_reply(redis, inbox.key, completed("early"))
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(inbox.run)
        assert await inbox.wait("early", 5) == completed("early")
        tasks.cancel_scope.cancel()


async def test_wait_gives_none_after_its_timeout(redis: Redis, keys: Keys) -> None:
    inbox = inbox_with_limits(redis, keys, Settings())
    await inbox.open()
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(inbox.run)
        inbox.expect("never")
        assert await inbox.wait("never", 0.1) is None
        tasks.cancel_scope.cancel()


async def test_open_inbox_expires_unless_its_reader_renews_it(redis: Redis, keys: Keys) -> None:
    inbox = inbox_with_limits(redis, keys, Settings())
    await inbox.open()
    assert 0 < await redis.ttl(inbox.key) <= 600


async def test_reply_to_a_vanished_inbox_creates_nothing(redis: Redis, keys: Keys) -> None:
    # Never opened, like one whose process died long ago.
    inbox = inbox_with_limits(redis, keys, Settings())
    await send_reply(redis, inbox.key, completed("x"))
    assert not await redis.exists(inbox.key)
