"""Code signing configs: one Redis hash keyed by config id (csc-...). A config in use by a
function (its FunctionSettings names it) cannot be deleted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

from bus.keys import Keys
from bus.records import CodeSigningConfig, FunctionSettings
from bus.stores.base import RecordStore
from bus.transport.transactions import transaction


class CodeSigningConfigStore(RecordStore[CodeSigningConfig]):
    def __init__(self, redis: Redis, keys: Keys) -> None:
        super().__init__(redis, keys, CodeSigningConfig)
        self._settings = RecordStore(redis, keys, FunctionSettings)

    async def get(self, csc_id: str) -> CodeSigningConfig | None:
        return await self._get(self.keys.code_signing_configs, csc_id)

    async def all(self) -> list[CodeSigningConfig]:
        """Every config, in id order."""
        configs = await self._all(self.keys.code_signing_configs)
        return sorted(configs, key=lambda c: c.csc_id)

    async def put(self, config: CodeSigningConfig) -> None:
        await self._put(self.keys.code_signing_configs, config.csc_id, config)

    async def update(
        self, csc_id: str, change: Callable[[CodeSigningConfig], CodeSigningConfig]
    ) -> CodeSigningConfig:
        """RecordMissing if there is no such config."""
        return await self._update(self.keys.code_signing_configs, csc_id, change)

    async def delete(self, csc_id: str, arn: str) -> list[str] | None:
        """Delete the config unless functions use it: None if there was none, else the
        functions using it (nothing deleted unless that list is empty)."""
        configs = self.keys.code_signing_configs
        settings = self.keys.function_settings

        async def attempt(pipe: Any) -> list[str] | None:
            if not await pipe.hexists(configs, csc_id):
                return None
            users = [self._settings.decode(raw) for raw in (await pipe.hgetall(settings)).values()]
            in_use = sorted(s.function_name for s in users if s.code_signing_config_arn == arn)
            if in_use:
                return in_use
            pipe.multi()
            pipe.hdel(configs, csc_id)
            pipe.delete(self.keys.code_signing_config_tags(csc_id))
            await pipe.execute()
            return []

        return await transaction(self.redis, (configs, settings), attempt)
