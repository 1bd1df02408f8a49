"""The event source mapping store: every mapping in one Redis hash keyed by UUID.

Changes are optimistic transactions, so the API and the pollers settling a mapping's state
never lose each other's writes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

from bus.keys import Keys
from bus.records import EVENT_SOURCE_MAPPING_DECODER, RECORD_ENCODER, EventSourceMapping
from bus.state import RecordMissing
from bus.transactions import transaction

# Given the stored mapping, the mapping to store; may raise to refuse the change.
MappingChange = Callable[[EventSourceMapping], EventSourceMapping]


class EventSourceMappingStore:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys

    async def get(self, uuid: str) -> EventSourceMapping | None:
        raw = await self.redis.hget(self.keys.event_source_mappings, uuid)
        return None if raw is None else EVENT_SOURCE_MAPPING_DECODER.decode(raw)

    async def all(self) -> list[EventSourceMapping]:
        """Every mapping, in UUID order, so pages are stable."""
        raw = await self.redis.hgetall(self.keys.event_source_mappings)
        mappings = (EVENT_SOURCE_MAPPING_DECODER.decode(value) for value in raw.values())
        return sorted(mappings, key=lambda m: m.uuid)

    async def create(
        self, mapping: EventSourceMapping, duplicate: Callable[[EventSourceMapping], bool]
    ) -> EventSourceMapping | None:
        """Store a new mapping unless one already stored is its `duplicate`; that one if so."""
        key = self.keys.event_source_mappings

        async def attempt(pipe: Any) -> EventSourceMapping | None:
            for raw in (await pipe.hgetall(key)).values():
                existing = EVENT_SOURCE_MAPPING_DECODER.decode(raw)
                if duplicate(existing):
                    return existing
            pipe.multi()
            pipe.hset(key, mapping.uuid, RECORD_ENCODER.encode(mapping))
            await pipe.execute()
            return None

        return await transaction(self.redis, (key,), attempt)

    async def update(self, uuid: str, change: MappingChange) -> EventSourceMapping:
        """Apply `change` atomically; RecordMissing if the mapping is gone."""
        key = self.keys.event_source_mappings

        async def attempt(pipe: Any) -> EventSourceMapping:
            raw = await pipe.hget(key, uuid)
            if raw is None:
                raise RecordMissing(uuid)
            mapping = change(EVENT_SOURCE_MAPPING_DECODER.decode(raw))
            pipe.multi()
            pipe.hset(key, uuid, RECORD_ENCODER.encode(mapping))
            await pipe.execute()
            return mapping

        return await transaction(self.redis, (key,), attempt)

    async def remove(self, uuid: str) -> None:
        """Forget the mapping (once its poller has stopped, or it never had one)."""
        await self.redis.hdel(self.keys.event_source_mappings, uuid)
