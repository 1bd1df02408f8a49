"""Function URL configs: each function's in one Redis hash keyed by qualifier ($LATEST or an
alias name)."""

from __future__ import annotations

from collections.abc import Callable

from redis.asyncio import Redis

from bus.keys import Keys
from bus.records import FunctionUrlConfig
from bus.stores.base import RecordStore


class FunctionUrlConfigStore(RecordStore[FunctionUrlConfig]):
    def __init__(self, redis: Redis, keys: Keys) -> None:
        super().__init__(redis, keys, FunctionUrlConfig)

    async def get(self, function_name: str, qualifier: str) -> FunctionUrlConfig | None:
        return await self._get(self.keys.function_url_configs(function_name), qualifier)

    async def all(self, function_name: str) -> list[FunctionUrlConfig]:
        """The function's URL configs in qualifier order."""
        configs = await self._all(self.keys.function_url_configs(function_name))
        return sorted(configs, key=lambda c: c.qualifier)

    async def write(
        self,
        function_name: str,
        qualifier: str,
        change: Callable[[FunctionUrlConfig | None], FunctionUrlConfig],
    ) -> FunctionUrlConfig:
        """Store `change(stored config or None)` atomically; `change` may raise to refuse."""
        return await self._write(self.keys.function_url_configs(function_name), qualifier, change)

    async def delete(self, function_name: str, qualifier: str) -> bool:
        """False if there was no config."""
        return await self._delete(self.keys.function_url_configs(function_name), qualifier)
