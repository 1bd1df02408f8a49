"""Function URL configs: each function's in one Redis hash keyed by qualifier ($LATEST or an
alias name), plus one index from url id to function and qualifier, written with the config."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

from bus.keys import Keys
from bus.records import FunctionUrlConfig
from bus.stores.base import ENCODER, RecordStore
from bus.transport.transactions import transaction


class FunctionUrlConfigStore(RecordStore[FunctionUrlConfig]):
    def __init__(self, redis: Redis, keys: Keys) -> None:
        super().__init__(redis, keys, FunctionUrlConfig)

    async def get(self, function_name: str, qualifier: str) -> FunctionUrlConfig | None:
        return await self._get(self.keys.function_url_configs(function_name), qualifier)

    async def all(self, function_name: str) -> list[FunctionUrlConfig]:
        """The function's URL configs in qualifier order."""
        configs = await self._all(self.keys.function_url_configs(function_name))
        return sorted(configs, key=lambda c: c.qualifier)

    async def by_url_id(self, url_id: str) -> FunctionUrlConfig | None:
        """The config whose URL has this id. Deleting a function or alias drops its configs
        without the index, so an entry counts only while its config still has that id."""
        target = await self.redis.hget(self.keys.function_url_ids, url_id)
        if target is None:
            return None
        function_name, _, qualifier = target.decode().partition("\n")
        config = await self.get(function_name, qualifier)
        if config is None or config.url_id != url_id:
            await self.redis.hdel(self.keys.function_url_ids, url_id)
            return None
        return config

    async def write(
        self,
        function_name: str,
        qualifier: str,
        change: Callable[[FunctionUrlConfig | None], FunctionUrlConfig],
    ) -> FunctionUrlConfig:
        """Store `change(stored config or None)` and its url id atomically; `change` may raise
        to refuse."""
        key = self.keys.function_url_configs(function_name)

        async def attempt(pipe: Any) -> FunctionUrlConfig:
            raw = await pipe.hget(key, qualifier)
            config = change(None if raw is None else self.decode(raw))
            pipe.multi()
            pipe.hset(key, qualifier, ENCODER.encode(config))
            pipe.hset(self.keys.function_url_ids, config.url_id, f"{function_name}\n{qualifier}")
            await pipe.execute()
            return config

        return await transaction(self.redis, (key,), attempt)

    async def delete(self, function_name: str, qualifier: str) -> bool:
        """False if there was no config."""
        key = self.keys.function_url_configs(function_name)

        async def attempt(pipe: Any) -> bool:
            raw = await pipe.hget(key, qualifier)
            if raw is None:
                return False
            pipe.multi()
            pipe.hdel(key, qualifier)
            pipe.hdel(self.keys.function_url_ids, self.decode(raw).url_id)
            await pipe.execute()
            return True

        return await transaction(self.redis, (key,), attempt)
