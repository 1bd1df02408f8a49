"""Function records: each function's versions ($LATEST, 1, 2, ...) in one Redis hash, plus the
sorted set of names that ListFunctions pages through and the counter of published versions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

from bus.keys import Keys
from bus.records import LATEST, FunctionVersion
from bus.stores.base import ENCODER, RecordMissing, RecordStore, announce_change, names_after
from bus.stores.tags import TagStore
from bus.transport.transactions import transaction


class FunctionStore(RecordStore[FunctionVersion]):
    def __init__(self, redis: Redis, keys: Keys) -> None:
        super().__init__(redis, keys, FunctionVersion)
        self._tags = TagStore(redis, keys)

    def _changed(self, pipe: Any, record: FunctionVersion) -> None:
        announce_change(pipe, self.keys, record.name)

    async def get(self, name: str, qualifier: str = LATEST) -> FunctionVersion | None:
        return await self._get(self.keys.function(name), qualifier)

    async def create(self, record: FunctionVersion, tags: dict[str, str]) -> bool:
        """Store a new function's $LATEST; False if a function of that name exists."""
        key = self.keys.function(record.name)

        async def attempt(pipe: Any) -> bool:
            if await pipe.exists(key):
                return False
            pipe.multi()
            pipe.hset(key, LATEST, ENCODER.encode(record))
            pipe.zadd(self.keys.function_names, {record.name: 0})
            announce_change(pipe, self.keys, record.name)
            self._tags.stage(pipe, self._tags.function(record.name), tags)
            await pipe.execute()
            return True

        return await transaction(self.redis, (key,), attempt)

    async def update(
        self,
        name: str,
        change: Callable[[FunctionVersion], FunctionVersion],
        qualifier: str = LATEST,
    ) -> FunctionVersion:
        """Apply `change` to the stored record atomically; `change` may raise to refuse."""
        return await self._update(self.keys.function(name), qualifier, change)

    async def publish(
        self,
        name: str,
        version_of: Callable[[FunctionVersion, str], FunctionVersion],
        reuse: Callable[[FunctionVersion, FunctionVersion], bool] | None = None,
    ) -> FunctionVersion:
        """Store `version_of($LATEST, next number)` as the function's next published version.

        `version_of` may raise to refuse. When `reuse($LATEST, last published version)` holds,
        nothing is stored and that version is returned (PublishVersion of unchanged code).
        """
        key = self.keys.function(name)
        counter = self.keys.function_last_version(name)

        async def attempt(pipe: Any) -> FunctionVersion:
            raw = await pipe.hget(key, LATEST)
            if raw is None:
                raise RecordMissing(f"{name}:{LATEST}")
            latest = self.decode(raw)
            last = int(await pipe.get(counter) or 0)
            number = str(last + 1)
            record = version_of(latest, number)
            previous = await pipe.hget(key, str(last)) if reuse and last else None
            if previous is not None and reuse is not None:
                published = self.decode(previous)
                if reuse(latest, published):
                    return published
            pipe.multi()
            pipe.hset(key, number, ENCODER.encode(record))
            pipe.set(counter, number)
            announce_change(pipe, self.keys, name)
            await pipe.execute()
            return record

        return await transaction(self.redis, (key, counter), attempt)

    async def delete(self, name: str) -> None:
        """The function with everything that belongs to it."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(
                self.keys.function(name),
                self.keys.function_tags(name),
                self.keys.function_last_version(name),
                self.keys.function_aliases(name),
                self.keys.event_invoke_configs(name),
                self.keys.function_policies(name),
                self.keys.function_url_configs(name),
                self.keys.provisioned_concurrency(name),
                self.keys.version_settings(name),
            )
            pipe.hdel(self.keys.function_settings, name)  # concurrency, CSC attachment
            pipe.zrem(self.keys.function_names, name)
            announce_change(pipe, self.keys, name)
            await pipe.execute()

    async def names_after(self, marker: str | None, count: int) -> list[str]:
        """Up to `count` function names in order, starting after `marker`."""
        return await names_after(self.redis, self.keys.function_names, marker, count)

    async def get_many(self, names: list[str], qualifier: str = LATEST) -> list[FunctionVersion]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.hget(self.keys.function(name), qualifier)
            raws = await pipe.execute()
        return [self.decode(raw) for raw in raws if raw is not None]

    async def versions(self, name: str) -> list[FunctionVersion]:
        """Every version of the function: $LATEST first, then the published ones in order."""
        records = await self._all(self.keys.function(name))
        return sorted(records, key=lambda r: -1 if r.version == LATEST else int(r.version))
