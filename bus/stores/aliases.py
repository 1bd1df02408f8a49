"""Aliases: each function's aliases in one Redis hash, written in transactions that also watch
the function's versions, so an alias never points at a version being deleted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

from bus.keys import Keys
from bus.records import LATEST, Alias
from bus.stores.base import ENCODER, RecordStore, announce_change
from bus.transport.transactions import transaction

# Given the alias as stored (None if new) and the function's versions (empty if the function
# is gone), the alias to store; may raise to refuse.
AliasChange = Callable[[Alias | None, set[str]], Alias]


class AliasStore(RecordStore[Alias]):
    def __init__(self, redis: Redis, keys: Keys) -> None:
        super().__init__(redis, keys, Alias)

    async def get(self, function_name: str, alias_name: str) -> Alias | None:
        return await self._get(self.keys.function_aliases(function_name), alias_name)

    async def all(self, function_name: str) -> list[Alias]:
        """The function's aliases in name order."""
        aliases = await self._all(self.keys.function_aliases(function_name))
        return sorted(aliases, key=lambda a: a.name)

    async def write(self, function_name: str, alias_name: str, change: AliasChange) -> Alias:
        """Store `change(current alias, versions)` atomically, against concurrent changes."""
        function_key = self.keys.function(function_name)
        aliases_key = self.keys.function_aliases(function_name)

        async def attempt(pipe: Any) -> Alias:
            versions = {v.decode() for v in await pipe.hkeys(function_key)}
            raw = await pipe.hget(aliases_key, alias_name)
            alias = change(None if raw is None else self.decode(raw), versions)
            pipe.multi()
            pipe.hset(aliases_key, alias_name, ENCODER.encode(alias))
            announce_change(pipe, self.keys, function_name)
            await pipe.execute()
            return alias

        return await transaction(self.redis, (function_key, aliases_key), attempt)

    async def delete(self, function_name: str, alias_name: str) -> None:
        """The alias with its resource policy and function URL config, as on AWS."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self.keys.function_aliases(function_name), alias_name)
            pipe.hdel(self.keys.function_policies(function_name), alias_name)
            pipe.hdel(self.keys.function_url_configs(function_name), alias_name)
            announce_change(pipe, self.keys, function_name)
            await pipe.execute()

    async def delete_version(self, function_name: str, version: str) -> list[str]:
        """Delete a published version (with its resource policy) unless aliases route to it;
        returns those aliases."""
        assert version != LATEST, "$LATEST goes with the function"
        function_key = self.keys.function(function_name)
        aliases_key = self.keys.function_aliases(function_name)

        async def attempt(pipe: Any) -> list[str]:
            aliases = [self.decode(raw) for raw in (await pipe.hgetall(aliases_key)).values()]
            in_use = sorted(a.name for a in aliases if version in a.versions())
            if in_use:
                return in_use
            pipe.multi()
            pipe.hdel(function_key, version)
            pipe.hdel(self.keys.function_policies(function_name), version)
            announce_change(pipe, self.keys, function_name)
            await pipe.execute()
            return []

        return await transaction(self.redis, (function_key, aliases_key), attempt)
