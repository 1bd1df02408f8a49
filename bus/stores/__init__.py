"""The typed stores, one per record kind, on one generic base (`base.RecordStore`).

`Stores` bundles them; the API's context and every worker's context hold one.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from bus.keys import Keys
from bus.stores.aliases import AliasStore
from bus.stores.base import RecordMissing
from bus.stores.blobs import BlobStore
from bus.stores.event_invoke_configs import EventInvokeConfigStore
from bus.stores.event_source_mappings import EventSourceMappingStore
from bus.stores.functions import FunctionStore
from bus.stores.layers import LayerStore
from bus.stores.policies import PolicyStore
from bus.stores.tags import TagStore
from bus.stores.url_configs import FunctionUrlConfigStore

__all__ = [
    "AliasStore",
    "BlobStore",
    "EventInvokeConfigStore",
    "EventSourceMappingStore",
    "FunctionStore",
    "FunctionUrlConfigStore",
    "LayerStore",
    "PolicyStore",
    "RecordMissing",
    "Stores",
    "TagStore",
]


@dataclass(frozen=True, slots=True)
class Stores:
    functions: FunctionStore
    blobs: BlobStore
    aliases: AliasStore
    layers: LayerStore
    event_source_mappings: EventSourceMappingStore
    event_invoke_configs: EventInvokeConfigStore
    policies: PolicyStore
    url_configs: FunctionUrlConfigStore
    tags: TagStore

    @classmethod
    def create(cls, redis: Redis, keys: Keys) -> Stores:
        return cls(
            functions=FunctionStore(redis, keys),
            blobs=BlobStore(redis, keys),
            aliases=AliasStore(redis, keys),
            layers=LayerStore(redis, keys),
            event_source_mappings=EventSourceMappingStore(redis, keys),
            event_invoke_configs=EventInvokeConfigStore(redis, keys),
            policies=PolicyStore(redis, keys),
            url_configs=FunctionUrlConfigStore(redis, keys),
            tags=TagStore(redis, keys),
        )
