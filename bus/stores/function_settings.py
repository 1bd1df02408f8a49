"""Function settings (reserved concurrency, recursion, code signing): one Redis hash keyed
by function name, so a write can check the whole account's reserved concurrency atomically.
The API writes them; the pool reads `reserved_concurrency` to cap a function's environments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

from bus.keys import Keys
from bus.records import FunctionSettings
from bus.stores.base import ENCODER, RecordMissing, RecordStore
from bus.transport.transactions import transaction

# Given the function's settings (defaults if none stored) and every function's, the settings
# to store; may raise to refuse.
SettingsChange = Callable[[FunctionSettings, list[FunctionSettings]], FunctionSettings]


class FunctionSettingsStore(RecordStore[FunctionSettings]):
    def __init__(self, redis: Redis, keys: Keys) -> None:
        super().__init__(redis, keys, FunctionSettings)

    async def get(self, function_name: str) -> FunctionSettings:
        """The function's settings; the defaults when none were set."""
        stored = await self._get(self.keys.function_settings, function_name)
        return stored or FunctionSettings(function_name=function_name)

    async def all(self) -> list[FunctionSettings]:
        return await self._all(self.keys.function_settings)

    async def reserved_total(self) -> int:
        """Reserved concurrency of all functions together."""
        return sum(s.reserved_concurrency or 0 for s in await self.all())

    async def write(self, function_name: str, change: SettingsChange) -> FunctionSettings:
        """Store `change(settings, all settings)` atomically, against concurrent writes and
        the function's deletion; RecordMissing if the function does not exist."""
        function_key = self.keys.function(function_name)
        settings_key = self.keys.function_settings

        async def attempt(pipe: Any) -> FunctionSettings:
            if not await pipe.exists(function_key):
                raise RecordMissing(function_name)
            everyone = {
                name.decode(): self.decode(raw)
                for name, raw in (await pipe.hgetall(settings_key)).items()
            }
            current = everyone.get(function_name) or FunctionSettings(function_name=function_name)
            settings = change(current, list(everyone.values()))
            pipe.multi()
            pipe.hset(settings_key, function_name, ENCODER.encode(settings))
            await pipe.execute()
            return settings

        return await transaction(self.redis, (function_key, settings_key), attempt)
