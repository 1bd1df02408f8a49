"""Per-version settings (runtime management, scaling): each function's in one Redis hash
keyed by qualifier ($LATEST, a version or an alias)."""

from __future__ import annotations

from collections.abc import Callable

from redis.asyncio import Redis

from bus.keys import Keys
from bus.records import VersionSettings
from bus.stores.base import RecordStore


class VersionSettingsStore(RecordStore[VersionSettings]):
    def __init__(self, redis: Redis, keys: Keys) -> None:
        super().__init__(redis, keys, VersionSettings)

    async def get(self, function_name: str, qualifier: str) -> VersionSettings:
        """The version's settings; the defaults when none were set."""
        stored = await self._get(self.keys.version_settings(function_name), qualifier)
        return stored or VersionSettings(function_name=function_name, qualifier=qualifier)

    async def write(
        self,
        function_name: str,
        qualifier: str,
        change: Callable[[VersionSettings], VersionSettings],
    ) -> VersionSettings:
        """Store `change(stored settings or the defaults)` atomically."""

        def with_defaults(current: VersionSettings | None) -> VersionSettings:
            return change(
                current or VersionSettings(function_name=function_name, qualifier=qualifier)
            )

        key = self.keys.version_settings(function_name)
        return await self._write(
            key, qualifier, with_defaults, (self.keys.function(function_name),)
        )
