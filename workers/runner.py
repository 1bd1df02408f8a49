"""Running one worker role as a process: settings, Redis, heartbeats, signals, graceful stop.

`python -m workers <role>` runs a role until SIGINT or SIGTERM, which cancel it; cleanup runs
shielded, with a grace period.
"""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable
from typing import Protocol

import anyio
from redis.asyncio import Redis

from bus.keys import Keys
from bus.settings import Settings, SettingsError
from bus.transport.connection import connect
from bus.transport.heartbeats import beat, stop_beating
from workers.consumers import consumer_name
from workers.context import WorkerContext

log = logging.getLogger("tarn.worker")

GRACE_PERIOD_S = 5.0


class Role(Protocol):
    async def run(self) -> None: ...
    async def aclose(self) -> None: ...


# Each role imports its module only when it runs (aiodocker, say, only where it is used).
def _functions(context: WorkerContext) -> Role:
    from workers.functions import FunctionManager
    from workers.metrics import WithMetrics

    return WithMetrics(FunctionManager(context), context)


def _pool(context: WorkerContext) -> Role:
    from workers.pool import WarmPool

    return WarmPool(
        context,
        reap_orphans=True,
        max_environments=context.settings.pool_max_environments,
        keep_alive_s=context.settings.pool_keep_alive_s,
    )


def _async(context: WorkerContext) -> Role:
    from workers.async_invoke import AsyncInvoker

    return AsyncInvoker(context)


def _event_sources(context: WorkerContext) -> Role:
    from workers.event_sources.worker import EventSourceWorker

    return EventSourceWorker(context)


ROLES: dict[str, Callable[[WorkerContext], Role]] = {
    "functions": _functions,
    "pool": _pool,
    "async": _async,
    "event_sources": _event_sources,
}


def build_role(name: str, context: WorkerContext) -> Role:
    factory = ROLES.get(name)
    if factory is None:
        raise SystemExit(f"unknown worker role {name!r}: choose {', '.join(ROLES)}")
    return factory(context)


async def serve_role(name: str, settings: Settings) -> None:
    redis = connect(settings)
    consumer = consumer_name(settings, name)
    context = WorkerContext.create(settings, redis, consumer)
    keys = context.keys
    role = build_role(name, context)
    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_stop_on_signal, tasks.cancel_scope)
            tasks.start_soon(_beat_forever, redis, keys, name, consumer, settings)
            await role.run()
            tasks.cancel_scope.cancel()
    finally:
        with anyio.move_on_after(GRACE_PERIOD_S, shield=True):
            await role.aclose()
            await context.aclose()
            await stop_beating(redis, keys, name, consumer)
            await redis.aclose()


async def _stop_on_signal(scope: anyio.CancelScope) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            log.info("received %s; stopping", signal.Signals(signum).name)
            scope.cancel()
            return


async def _beat_forever(
    redis: Redis, keys: Keys, role: str, consumer: str, settings: Settings
) -> None:
    while True:
        try:
            await beat(redis, keys, role, consumer)
        except Exception:
            log.warning("heartbeat failed; Redis may be down", exc_info=True)
        await anyio.sleep(settings.heartbeat_interval_s)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        raise SystemExit(f"usage: python -m workers <{'|'.join(ROLES)}>")
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise SystemExit(f"tarn: {exc}") from None
    logging.basicConfig(
        level=settings.log_level,
        format=f"%(asctime)s {argv[0]:<13} %(levelname)s %(message)s",
    )
    # httpx logs every request at INFO: each call to the companion, each receive of a poller.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    anyio.run(serve_role, argv[0], settings, backend_options={"use_uvloop": True})
