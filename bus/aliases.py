"""The alias store: each function's aliases in one Redis hash, written in transactions that
also watch the function's versions, so an alias never points at a version being deleted.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

from bus.keys import Keys
from bus.records import ALIAS_DECODER, LATEST, RECORD_ENCODER, Alias, FunctionVersion
from bus.state import FunctionStore
from bus.transactions import transaction

# Given the alias as stored (None if new) and the function's versions (empty if the function
# is gone), the alias to store; may raise to refuse.
AliasChange = Callable[[Alias | None, set[str]], Alias]


class AliasStore:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys

    async def get(self, function_name: str, alias_name: str) -> Alias | None:
        raw = await self.redis.hget(self.keys.function_aliases(function_name), alias_name)
        return None if raw is None else ALIAS_DECODER.decode(raw)

    async def all(self, function_name: str) -> list[Alias]:
        """The function's aliases in name order."""
        raw = await self.redis.hgetall(self.keys.function_aliases(function_name))
        return sorted((ALIAS_DECODER.decode(v) for v in raw.values()), key=lambda a: a.name)

    async def write(self, function_name: str, alias_name: str, change: AliasChange) -> Alias:
        """Store `change(current alias, versions)` atomically, against concurrent changes."""
        function_key = self.keys.function(function_name)
        aliases_key = self.keys.function_aliases(function_name)

        async def attempt(pipe: Any) -> Alias:
            versions = {v.decode() for v in await pipe.hkeys(function_key)}
            raw = await pipe.hget(aliases_key, alias_name)
            current = None if raw is None else ALIAS_DECODER.decode(raw)
            alias = change(current, versions)
            pipe.multi()
            pipe.hset(aliases_key, alias_name, RECORD_ENCODER.encode(alias))
            await pipe.execute()
            return alias

        return await transaction(self.redis, (function_key, aliases_key), attempt)

    async def delete(self, function_name: str, alias_name: str) -> None:
        await self.redis.hdel(self.keys.function_aliases(function_name), alias_name)

    async def delete_version(self, function_name: str, version: str) -> list[str]:
        """Delete a published version unless aliases route to it; returns those aliases."""
        assert version != LATEST, "$LATEST goes with the function"
        function_key = self.keys.function(function_name)
        aliases_key = self.keys.function_aliases(function_name)

        async def attempt(pipe: Any) -> list[str]:
            aliases = [
                ALIAS_DECODER.decode(raw) for raw in (await pipe.hgetall(aliases_key)).values()
            ]
            in_use = sorted(a.name for a in aliases if version in a.versions())
            if in_use:
                return in_use
            pipe.multi()
            pipe.hdel(function_key, version)
            await pipe.execute()
            return []

        return await transaction(self.redis, (function_key, aliases_key), attempt)


def is_version(qualifier: str) -> bool:
    """$LATEST or a published version number; any other qualifier names an alias."""
    return qualifier == LATEST or qualifier.isdigit()


def pick_version(alias: Alias) -> str:
    """The version for one invocation: an additional version with the chance its weight
    gives, else the alias's own version."""
    draw = random.random()
    for version, weight in alias.additional_weights.items():
        if draw < weight:
            return version
        draw -= weight
    return alias.function_version


async def version_to_invoke(
    redis: Redis, keys: Keys, name: str, qualifier: str | None
) -> FunctionVersion | None:
    """The version one invocation of `name:qualifier` runs (an alias routes by weight);
    None when the function, version or alias is gone. For workers invoking on their own."""
    version = qualifier or LATEST
    if not is_version(version):
        alias = await AliasStore(redis, keys).get(name, version)
        if alias is None:
            return None
        version = pick_version(alias)
    return await FunctionStore(redis, keys).get(name, version)
