"""Event source mappings: every mapping in one Redis hash keyed by UUID.

The API and the pollers settling a mapping's state change it in transactions, so neither
loses the other's writes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

from bus.keys import Keys
from bus.records import EventSourceMapping
from bus.stores.base import ENCODER, RecordStore
from bus.transport.transactions import transaction

# Given the stored mapping, the mapping to store; may raise to refuse the change.
MappingChange = Callable[[EventSourceMapping], EventSourceMapping]


class EventSourceMappingStore(RecordStore[EventSourceMapping]):
    def __init__(self, redis: Redis, keys: Keys) -> None:
        super().__init__(redis, keys, EventSourceMapping)

    async def get(self, uuid: str) -> EventSourceMapping | None:
        return await self._get(self.keys.event_source_mappings, uuid)

    async def all(self) -> list[EventSourceMapping]:
        """Every mapping, in UUID order, so pages are stable."""
        return sorted(await self._all(self.keys.event_source_mappings), key=lambda m: m.uuid)

    async def create(
        self, mapping: EventSourceMapping, duplicate: Callable[[EventSourceMapping], bool]
    ) -> EventSourceMapping | None:
        """Store a new mapping unless one already stored is its `duplicate`; that one if so."""
        key = self.keys.event_source_mappings

        async def attempt(pipe: Any) -> EventSourceMapping | None:
            for raw in (await pipe.hgetall(key)).values():
                existing = self.decode(raw)
                if duplicate(existing):
                    return existing
            pipe.multi()
            pipe.hset(key, mapping.uuid, ENCODER.encode(mapping))
            await pipe.execute()
            return None

        return await transaction(self.redis, (key,), attempt)

    async def update(self, uuid: str, change: MappingChange) -> EventSourceMapping:
        """Apply `change` atomically; RecordMissing if the mapping is gone."""
        return await self._update(self.keys.event_source_mappings, uuid, change)

    async def remove(self, uuid: str) -> None:
        """Forget the mapping (once its poller has stopped, or it never had one)."""
        await self._delete(self.keys.event_source_mappings, uuid)
