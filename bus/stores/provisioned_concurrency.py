"""Provisioned concurrency configs: each function's in one Redis hash keyed by qualifier (a
version or an alias). The API writes what is requested; the pool reads them, starts the
environments and reports allocated/available and the status back through `update`; it finds
them through a set of the names of functions with configs."""

from __future__ import annotations

from collections.abc import Callable

from redis.asyncio import Redis

from bus.keys import Keys
from bus.records import ProvisionedConcurrencyConfig
from bus.stores.base import RecordStore

# KEYS: the function's configs, the set of function names; ARGV: the function's name.
PRUNE = """
if redis.call('hlen', KEYS[1]) == 0 then
  return redis.call('srem', KEYS[2], ARGV[1])
end
return 0
"""


class ProvisionedConcurrencyStore(RecordStore[ProvisionedConcurrencyConfig]):
    def __init__(self, redis: Redis, keys: Keys) -> None:
        super().__init__(redis, keys, ProvisionedConcurrencyConfig)
        self._prune = redis.register_script(PRUNE)

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
        config = await self._write(key, qualifier, change, (self.keys.function(function_name),))
        # After the write, so `prune` (which checks for configs) never drops a name in use.
        await self.redis.sadd(self.keys.provisioned_functions, function_name)
        return config

    async def function_names(self) -> list[str]:
        """The functions that may have configs (the pool reads these every second)."""
        return sorted(
            n.decode() for n in await self.redis.smembers(self.keys.provisioned_functions)
        )

    async def prune(self, function_name: str) -> None:
        """Forget `function_name` among those with configs, if it has none left."""
        key = self.keys.provisioned_concurrency(function_name)
        await self._prune(keys=[key, self.keys.provisioned_functions], args=[function_name])

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
