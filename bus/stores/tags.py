"""Tags of functions and code signing configs: one Redis hash (key -> value) per resource.

Event source mappings keep their tags in their own record (EventSourceMapping.tags), which
their store changes atomically with the rest of the mapping.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from bus.keys import Keys
from bus.quotas import TAGS_PER_RESOURCE
from bus.transport.transactions import transaction


class TagLimitExceeded(ValueError):
    """The resource would have more tags than it may."""


class TagStore:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys

    def function(self, name: str) -> str:
        """The tag hash of the function `name`."""
        return self.keys.function_tags(name)

    def code_signing_config(self, csc_id: str) -> str:
        return self.keys.code_signing_config_tags(csc_id)

    async def get(self, key: str) -> dict[str, str]:
        raw = await self.redis.hgetall(key)
        return {k.decode(): v.decode() for k, v in raw.items()}

    def stage(self, pipe: Any, key: str, tags: dict[str, str]) -> None:
        """Queue writing `tags` in a transaction the caller runs (CreateFunction's)."""
        if tags:
            pipe.hset(key, mapping=tags)

    async def merge(self, key: str, tags: dict[str, str], limit: int = TAGS_PER_RESOURCE) -> None:
        """Add or overwrite `tags`; TagLimitExceeded if that makes more than `limit`."""

        async def attempt(pipe: Any) -> None:
            present = {k.decode() for k in await pipe.hkeys(key)}
            if len(present | set(tags)) > limit:
                raise TagLimitExceeded(key)
            pipe.multi()
            pipe.hset(key, mapping=tags)
            await pipe.execute()

        await transaction(self.redis, (key,), attempt)

    async def remove(self, key: str, tag_keys: list[str]) -> None:
        if tag_keys:
            await self.redis.hdel(key, *tag_keys)
