"""Provisioned concurrency: environments started ahead of invocations for each config, kept
warm and used first (https://docs.aws.amazon.com/lambda/latest/dg/provisioned-concurrency.html).

Every pool process reads the configs each second. One process keeps each config (a lease in
Redis, as event source mappings are held), so the environments of all processes add up to
what was requested; another takes it over when the keeper dies.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio
import msgspec
from anyio.abc import TaskGroup

from bus.aliases import is_version
from bus.archives import CodeError
from bus.records import (
    FunctionVersion,
    ProvisionedConcurrencyConfig,
    ProvisionedConcurrencyStatus,
    State,
)
from bus.stores import RecordMissing
from workers.context import WorkerContext
from workers.event_sources.leases import Leases
from workers.pool.environments import Environment, environment_key
from workers.pool.executors.base import LaunchError, UnsupportedFunction

if TYPE_CHECKING:
    from workers.pool.pool import WarmPool

log = logging.getLogger("tarn.pool")

RECONCILE_S = 1.0
LEASE_TTL_MS = 4_000  # renewed every second: a keeper that stalls this long loses its configs

Status = tuple[int, ProvisionedConcurrencyStatus, str | None]


@dataclass(eq=False)
class Kept:
    """The environments this process keeps for one config."""

    environments: list[Environment] = field(default_factory=list)
    starting: int = 0
    failure: str | None = None  # why the last start failed
    failed_config: str | None = None  # the config's LastModified it failed for: no retry


class Provisioner:
    """Keeps, in `pool`, the provisioned environments of the configs this process holds."""

    def __init__(self, pool: WarmPool, context: WorkerContext) -> None:
        self.pool = pool
        self.stores = context.stores
        self.leases = Leases(
            context.redis,
            context.keys,
            context.consumer,
            LEASE_TTL_MS,
            key=context.keys.provisioned_lease,
        )
        self.kept: dict[str, Kept] = {}
        self._tasks: TaskGroup | None = None

    async def run(self) -> None:
        try:
            async with anyio.create_task_group() as tasks:
                self._tasks = tasks
                while True:
                    try:
                        await self.reconcile()
                    except Exception:
                        log.warning("provisioned concurrency: reconcile failed", exc_info=True)
                    await anyio.sleep(RECONCILE_S)
        finally:  # let another pool process take the configs over at once
            with anyio.CancelScope(shield=True), anyio.move_on_after(1.0):
                await self.leases.release(list(self.kept))

    async def reconcile(self) -> None:
        """Take, keep or let go of each config, and bring its environments to the count."""
        configs = await self._configs()
        ours = await self.leases.renew(set(self.kept) & set(configs))
        ours |= await self.leases.acquire(set(configs) - set(self.kept))
        for ident in ours:
            self.kept.setdefault(ident, Kept())
        for ident, kept in list(self.kept.items()):
            if ident in ours:
                await self._keep(ident, kept, configs[ident])
            elif await self._shrink(kept, None, 0):  # deleted, or taken over
                del self.kept[ident]
                await self.leases.release([ident])

    async def _configs(self) -> dict[str, ProvisionedConcurrencyConfig]:
        configs: dict[str, ProvisionedConcurrencyConfig] = {}
        for name in await self.stores.provisioned_concurrency.function_names():
            found = await self.stores.provisioned_concurrency.all(name)
            if not found:
                await self.stores.provisioned_concurrency.prune(name)
            configs |= {f"{c.function_name}:{c.qualifier}": c for c in found}
        return configs

    async def _keep(self, ident: str, kept: Kept, config: ProvisionedConcurrencyConfig) -> None:
        function = await self._version(config)
        if function is None:  # not Active (yet), or gone
            await self._shrink(kept, None, 0)
            return
        await self._shrink(kept, function, config.requested)
        retry = kept.failed_config != config.last_modified
        missing = config.requested - len(kept.environments) - kept.starting
        if retry and missing > 0:
            assert self._tasks is not None
            for _ in range(missing):
                kept.starting += 1
                self._tasks.start_soon(self._start, ident, kept, function, config.last_modified)
        await self._report(config, kept)

    async def _version(self, config: ProvisionedConcurrencyConfig) -> FunctionVersion | None:
        """The Active version the config's qualifier names (an alias: its version)."""
        version = config.qualifier
        if not is_version(version):
            alias = await self.stores.aliases.get(config.function_name, version)
            if alias is None:
                return None
            version = alias.function_version
        function = await self.stores.functions.get(config.function_name, version)
        return function if function is not None and function.state == State.ACTIVE else None

    async def _start(
        self, ident: str, kept: Kept, function: FunctionVersion, last_modified: str
    ) -> None:
        try:
            environment = await self.pool.provision(function)
        except (LaunchError, UnsupportedFunction, CodeError) as exc:
            log.warning("provisioned environment of %s failed to start: %s", ident, exc)
            kept.failure = getattr(exc, "message", None) or str(exc)
            kept.failed_config = last_modified
            return
        finally:
            kept.starting -= 1
        kept.environments.append(environment)
        if self.kept.get(ident) is not kept:  # let go of meanwhile
            await self._shrink(kept, None, 0)

    async def _shrink(self, kept: Kept, function: FunctionVersion | None, count: int) -> bool:
        """Stop dead, outdated and surplus environments (the busy ones once free); True when
        none is left."""
        key = None if function is None else environment_key(function)
        alive = [e for e in kept.environments if not e.dead and e.key == key]
        for environment in [e for e in kept.environments if e not in alive] + alive[count:]:
            if await self.pool.dismiss(environment):
                kept.environments.remove(environment)
        return not kept.environments and not kept.starting

    async def _report(self, config: ProvisionedConcurrencyConfig, kept: Kept) -> None:
        """Write allocated/available and the status back when they changed."""
        allocated = min(len([e for e in kept.environments if not e.dead]), config.requested)
        status: Status = (allocated, ProvisionedConcurrencyStatus.IN_PROGRESS, None)
        if allocated >= config.requested:
            status = (allocated, ProvisionedConcurrencyStatus.READY, None)
        elif kept.failed_config == config.last_modified:
            status = (allocated, ProvisionedConcurrencyStatus.FAILED, kept.failure)
        if status == (config.allocated, config.status, config.status_reason):
            return

        def change(current: ProvisionedConcurrencyConfig) -> ProvisionedConcurrencyConfig:
            return msgspec.structs.replace(
                current,
                allocated=status[0],
                available=status[0],
                status=status[1],
                status_reason=status[2],
            )

        try:
            await self.stores.provisioned_concurrency.update(
                config.function_name, config.qualifier, change
            )
        except RecordMissing:
            pass  # deleted meanwhile: the next round lets its environments go
