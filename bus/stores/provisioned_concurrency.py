"""Provisioned concurrency configs: each function's in one Redis hash keyed by qualifier (a
version or an alias). The API writes what is requested; the pool reads them, starts the
environments and reports allocated/available and the status back through `update`."""

from __future__ import annotations

from collections.abc import Callable

from redis.asyncio import Redis

from bus.keys import Keys
from bus.records import ProvisionedConcurrencyConfig
from bus.stores.base import RecordStore


class ProvisionedConcurrencyStore(RecordStore[ProvisionedConcurrencyConfig]):
    def __init__(self, redis: Redis, keys: Keys) -> None:
        super().__init__(redis, keys, ProvisionedConcurrencyConfig)

    async def get(self, function_name: str, qualifier: str) -> ProvisionedConcurrencyConfig | None:
        return await self._get(self.keys.provisioned_concurrency(function_name), qualifier)

    async def all(self, function_name: str) -> list[ProvisionedConcurrencyConfig]:
        """The function's configs in qualifier order."""
        configs = await self._all(self.keys.provisioned_concurrency(function_name))
        return sorted(configs, key=lambda c: c.qualifier)

    async def write(
        self,
        function_name: str,
        qualifier: str,
        change: Callable[[ProvisionedConcurrencyConfig | None], ProvisionedConcurrencyConfig],
    ) -> ProvisionedConcurrencyConfig:
        """Store `change(stored config or None)` atomically; `change` may raise to refuse."""
        key = self.keys.provisioned_concurrency(function_name)
        return await self._write(key, qualifier, change, (self.keys.function(function_name),))

    async def update(
        self,
        function_name: str,
        qualifier: str,
        change: Callable[[ProvisionedConcurrencyConfig], ProvisionedConcurrencyConfig],
    ) -> ProvisionedConcurrencyConfig:
        """For the pool: RecordMissing if the config was deleted meanwhile."""
        key = self.keys.provisioned_concurrency(function_name)
        return await self._update(key, qualifier, change)

    async def delete(self, function_name: str, qualifier: str) -> bool:
        """False if there was no config."""
        return await self._delete(self.keys.provisioned_concurrency(function_name), qualifier)
