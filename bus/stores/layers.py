"""Layers: each layer's versions in one Redis hash, plus the names of layers in use.

Archives are blobs in the BlobStore (by SHA-256), shared with function code. Version numbers
come from a counter that is never reset, so a deleted number is never reused, as on AWS.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

from bus.keys import Keys
from bus.records import LayerVersion
from bus.stores.base import ENCODER, RecordStore, names_after
from bus.transport.transactions import transaction


class LayerStore(RecordStore[LayerVersion]):
    def __init__(self, redis: Redis, keys: Keys) -> None:
        super().__init__(redis, keys, LayerVersion)

    async def publish(self, name: str, version_of: Callable[[int], LayerVersion]) -> LayerVersion:
        """Store `version_of(next number)` as the layer's next version."""
        number = int(await self.redis.incr(self.keys.layer_last_version(name)))
        record = version_of(number)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.keys.layer(name), str(number), ENCODER.encode(record))
            pipe.zadd(self.keys.layer_names, {name: 0})
            await pipe.execute()
        return record

    async def get(self, name: str, version: int) -> LayerVersion | None:
        return await self._get(self.keys.layer(name), str(version))

    async def versions(self, name: str) -> list[LayerVersion]:
        """The layer's versions, newest first."""
        records = await self._all(self.keys.layer(name))
        return sorted(records, key=lambda r: r.version, reverse=True)

    async def names_after(self, marker: str | None, count: int) -> list[str]:
        """Up to `count` names of layers with versions, in order, starting after `marker`."""
        return await names_after(self.redis, self.keys.layer_names, marker, count)

    async def delete(self, name: str, version: int) -> None:
        """Delete one version; the layer leaves the list of layers with its last version."""
        key = self.keys.layer(name)

        async def attempt(pipe: Any) -> None:
            remaining = await pipe.hlen(key)
            present = await pipe.hexists(key, str(version))
            pipe.multi()
            pipe.hdel(key, str(version))
            pipe.hdel(self.keys.layer_policies(name), str(version))
            if remaining - int(present) == 0:
                pipe.zrem(self.keys.layer_names, name)
            await pipe.execute()

        await transaction(self.redis, (key,), attempt)
