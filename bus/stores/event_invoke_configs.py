"""Event-invoke configs: each function's configs in one Redis hash keyed by qualifier
($LATEST, a version or an alias). Written by the API, read by the async invoker."""

from __future__ import annotations

from collections.abc import Callable

from redis.asyncio import Redis

from bus.keys import Keys
from bus.records import EventInvokeConfig
from bus.stores.base import RecordStore


class EventInvokeConfigStore(RecordStore[EventInvokeConfig]):
    def __init__(self, redis: Redis, keys: Keys) -> None:
        super().__init__(redis, keys, EventInvokeConfig)

    async def get(self, function_name: str, qualifier: str) -> EventInvokeConfig | None:
        return await self._get(self.keys.event_invoke_configs(function_name), qualifier)

    async def all(self, function_name: str) -> list[EventInvokeConfig]:
        """The function's configs in qualifier order."""
        configs = await self._all(self.keys.event_invoke_configs(function_name))
        return sorted(configs, key=lambda c: c.qualifier)

    async def write(
        self,
        function_name: str,
        qualifier: str,
        change: Callable[[EventInvokeConfig | None], EventInvokeConfig],
    ) -> EventInvokeConfig:
        """Store `change(stored config or None)` atomically; `change` may raise to refuse."""
        return await self._write(self.keys.event_invoke_configs(function_name), qualifier, change)

    async def delete(self, function_name: str, qualifier: str) -> bool:
        """False if there was no config."""
        return await self._delete(self.keys.event_invoke_configs(function_name), qualifier)
