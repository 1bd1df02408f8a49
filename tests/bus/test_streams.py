"""The streams transport on a real redis-server: delivery, acks, reclaim and dead letters."""

from __future__ import annotations

import os
import socket
import sys

import anyio
import pytest
from redis.asyncio import Redis

from bus.keys import Keys
from bus.messages import FUNCTION_COMMANDS, FunctionCommand, ProvisionFunction
from bus.transport.streams import FIELD, ConsumerConfig, StreamConsumer, publish
from tests.waiting import eventually
from workers.consumers import adopt_orphans

pytestmark = pytest.mark.anyio


def consumer(
    redis: Redis, keys: Keys, name: str, **overrides: int
) -> StreamConsumer[FunctionCommand]:
    config = ConsumerConfig(
        stream=keys.function_commands,
        group="functions",
        consumer=name,
        dead_letters=keys.dead_letters,
        visibility_timeout_ms=overrides.get("visibility_timeout_ms", 30_000),
        max_deliveries=overrides.get("max_deliveries", 5),
    )
    return StreamConsumer(redis, config, FUNCTION_COMMANDS)


def command(name: str) -> ProvisionFunction:
    return ProvisionFunction(function_name=name, qualifier="$LATEST", revision_id="r1")


async def test_published_message_is_delivered_once_and_acked(redis: Redis, keys: Keys) -> None:
    worker = consumer(redis, keys, "w1")
    await worker.ensure_group()
    await publish(redis, keys.function_commands, FUNCTION_COMMANDS, command("a"))
    deliveries = await worker.read(10, 100)
    assert [d.message for d in deliveries] == [command("a")]
    await worker.ack(deliveries[0].entry_id)
    assert await worker.read(10, 50) == []
    pending = await redis.xpending(keys.function_commands, "functions")
    assert pending["pending"] == 0


async def test_restarted_consumer_resumes_its_own_pending_entries(redis: Redis, keys: Keys) -> None:
    first = consumer(redis, keys, "w1")
    await first.ensure_group()
    await publish(redis, keys.function_commands, FUNCTION_COMMANDS, command("a"))
    [delivery] = await first.read(10, 100)  # read, then "killed" before the ack
    again = consumer(redis, keys, "w1")  # same consumer name after a restart
    [resumed] = await again.read(10, 100)
    assert resumed.message == delivery.message
    assert resumed.deliveries == 2


async def test_entry_of_a_dead_consumer_is_reclaimed_after_visibility_timeout(
    redis: Redis, keys: Keys
) -> None:
    dead = consumer(redis, keys, "dead", visibility_timeout_ms=200)
    await dead.ensure_group()
    await publish(redis, keys.function_commands, FUNCTION_COMMANDS, command("a"))
    assert len(await dead.read(10, 100)) == 1
    alive = consumer(redis, keys, "alive", visibility_timeout_ms=200)
    assert await alive.read(10, 50) == []  # not yet: the dead one might still finish
    await anyio.sleep(0.3)
    alive._next_reclaim = 0  # the periodic reclaim would come round within the timeout
    [reclaimed] = await alive.read(10, 50)
    assert reclaimed.message == command("a")


async def test_reclaim_reaches_a_stuck_entry_behind_many_busy_ones(
    redis: Redis, keys: Keys
) -> None:
    busy = consumer(redis, keys, "busy", visibility_timeout_ms=200)
    await busy.ensure_group()
    for n in range(30):
        await publish(redis, keys.function_commands, FUNCTION_COMMANDS, command(f"busy{n}"))
    held = await busy.read(30, 100)
    dead = consumer(redis, keys, "dead", visibility_timeout_ms=200)
    await publish(redis, keys.function_commands, FUNCTION_COMMANDS, command("stuck"))
    assert len(await dead.read(10, 100)) == 1
    await anyio.sleep(0.3)
    ids = [delivery.entry_id for delivery in held]  # still being handled: touched, not idle
    await redis.xclaim(keys.function_commands, "functions", "busy", 0, ids, justid=True)
    alive = consumer(redis, keys, "alive", visibility_timeout_ms=200)
    reclaimed = []
    for _ in range(10):  # one free slot: each reclaim looks at a few entries only
        alive._next_reclaim = 0
        reclaimed += await alive.read(1, 10)
        if reclaimed:
            break
    assert [delivery.message for delivery in reclaimed] == [command("stuck")]


async def test_undecodable_entry_goes_to_dead_letters(redis: Redis, keys: Keys) -> None:
    worker = consumer(redis, keys, "w1")
    await worker.ensure_group()
    await redis.xadd(keys.function_commands, {FIELD: b"\x93not-a-message"})
    await publish(redis, keys.function_commands, FUNCTION_COMMANDS, command("b"))
    deliveries = await worker.read(10, 100)
    assert [d.message for d in deliveries] == [command("b")]
    [(_, fields)] = await redis.xrange(keys.dead_letters)
    assert fields[FIELD] == b"\x93not-a-message"
    assert fields[b"reason"].startswith(b"undecodable")


async def test_consume_dead_letters_a_message_that_keeps_failing(redis: Redis, keys: Keys) -> None:
    worker = consumer(redis, keys, "w1", visibility_timeout_ms=50, max_deliveries=2)
    attempts: list[FunctionCommand] = []

    async def always_fails(message: FunctionCommand) -> None:
        attempts.append(message)
        raise RuntimeError("boom")

    await publish(redis, keys.function_commands, FUNCTION_COMMANDS, command("c"))
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(lambda: worker.consume(always_fails, concurrency=2, block_ms=20))
            await eventually(lambda: redis.xlen(keys.dead_letters))
            tasks.cancel_scope.cancel()
    assert len(attempts) == 2
    [(_, fields)] = await redis.xrange(keys.dead_letters)
    assert b"RuntimeError('boom')" in fields[b"reason"]


async def test_consume_runs_messages_concurrently(redis: Redis, keys: Keys) -> None:
    worker = consumer(redis, keys, "w1")
    running = 0
    peak = 0
    done = anyio.Event()
    finished = 0

    async def slow(message: FunctionCommand) -> None:
        nonlocal running, peak, finished
        running += 1
        peak = max(peak, running)
        await anyio.sleep(0.1)
        running -= 1
        finished += 1
        if finished == 4:
            done.set()

    for name in "abcd":
        await publish(redis, keys.function_commands, FUNCTION_COMMANDS, command(name))
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(lambda: worker.consume(slow, concurrency=4, block_ms=20))
            await done.wait()
            await eventually(lambda: nothing_pending(redis, keys))
            tasks.cancel_scope.cancel()
    assert peak == 4


async def nothing_pending(redis: Redis, keys: Keys) -> bool:
    pending = await redis.xpending(keys.function_commands, "functions")
    return bool(pending["pending"] == 0)


async def test_entry_handled_longer_than_visibility_timeout_is_not_reclaimed(
    redis: Redis, keys: Keys
) -> None:
    busy = consumer(redis, keys, "busy", visibility_timeout_ms=300)
    other = consumer(redis, keys, "other", visibility_timeout_ms=300)
    started = anyio.Event()

    async def long_handler(message: FunctionCommand) -> None:
        started.set()
        await anyio.sleep(1.2)  # four visibility timeouts

    await busy.ensure_group()
    await publish(redis, keys.function_commands, FUNCTION_COMMANDS, command("a"))
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(lambda: busy.consume(long_handler, concurrency=1, block_ms=20))
            await started.wait()
            for _ in range(10):  # the other consumer keeps looking for abandoned entries
                await anyio.sleep(0.1)
                other._next_reclaim = 0
                assert await other.read(10, 10) == []
            await eventually(lambda: nothing_pending(redis, keys))
            tasks.cancel_scope.cancel()


async def test_a_worker_adopts_at_once_what_dead_local_workers_left_and_nothing_else(
    redis: Redis, keys: Keys
) -> None:
    host = socket.gethostname()
    async with await anyio.open_process([sys.executable, "-c", "pass"]) as gone:
        await gone.wait()
    dead_one = consumer(redis, keys, f"{host}-functions-{gone.pid}")
    live_one = consumer(redis, keys, f"{host}-functions-{os.getppid()}")
    await dead_one.ensure_group()
    await publish(redis, keys.function_commands, FUNCTION_COMMANDS, command("left"))
    assert len(await dead_one.read(10, 100)) == 1
    await publish(redis, keys.function_commands, FUNCTION_COMMANDS, command("held"))
    assert len(await live_one.read(10, 100)) == 1
    successor = consumer(redis, keys, f"{host}-functions-{os.getpid()}")
    assert await adopt_orphans(successor) == 1
    [adopted] = await successor.read(10, 50)  # well within the visibility timeout
    assert (adopted.message, adopted.deliveries) == (command("left"), 2)
    consumers = await redis.xinfo_consumers(keys.function_commands, "functions")
    names = {c["name"].decode() for c in consumers}
    assert names == {live_one.config.consumer, successor.config.consumer}  # the dead one gone
