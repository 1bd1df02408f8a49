"""Running worker roles as a process: settings, Redis, heartbeats, signals, graceful stop.

`python -m workers ROLE [ROLE ...]` runs one role, or several as tasks of one process, until
SIGINT or SIGTERM, which cancel them; each role's cleanup runs shielded, with a grace period.
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


async def serve_roles(names: list[str], settings: Settings) -> None:
    """Run the roles `names` as tasks of this process, on one Redis client, until a signal
    (or until one role ends); each joins its groups and beats as a consumer of its own."""
    redis = connect(settings)
    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_stop_on_signal, tasks.cancel_scope)
            for name in names:
                tasks.start_soon(_serve_role, name, settings, redis, tasks.cancel_scope)
    finally:
        with anyio.move_on_after(GRACE_PERIOD_S, shield=True):
            await redis.aclose()


async def _serve_role(
    name: str, settings: Settings, redis: Redis, process: anyio.CancelScope
) -> None:
    consumer = consumer_name(settings, name)
    context = WorkerContext.create(settings, redis, consumer)
    keys = context.keys
    role = ROLES[name](context)  # main() has refused unknown names
    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_beat_forever, redis, keys, name, consumer, settings)
            await role.run()
            process.cancel()
    finally:
        with anyio.move_on_after(GRACE_PERIOD_S, shield=True):
            await role.aclose()
            await context.aclose()
            await stop_beating(redis, keys, name, consumer)


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
    names = sys.argv[1:] if argv is None else argv
    unknown = [name for name in names if name not in ROLES]
    if not names or unknown or len(set(names)) < len(names):
        raise SystemExit(
            f"usage: python -m workers ROLE [ROLE ...], each once, of {', '.join(ROLES)}"
        )
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise SystemExit(f"tarn: {exc}") from None
    # One role: its name on each line; several: each line's logger (tarn.pool, tarn.async...).
    label = f"{names[0]:<13}" if len(names) == 1 else "%(name)-13s"
    logging.basicConfig(
        level=settings.log_level, format=f"%(asctime)s {label} %(levelname)s %(message)s"
    )
    # httpx logs every request at INFO: each call to the companion, each receive of a poller.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    anyio.run(serve_roles, names, settings, backend_options={"use_uvloop": True})
