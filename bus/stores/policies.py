"""Resource-based policies: each function's policies in one Redis hash keyed by qualifier, each
layer's in one keyed by version number. A policy whose last statement goes is deleted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

from bus.keys import Keys
from bus.records import ResourcePolicy
from bus.stores.base import ENCODER, RecordStore
from bus.transport.transactions import transaction

# Given the stored policy (None if there is none), the policy to store; may raise to refuse.
PolicyChange = Callable[[ResourcePolicy | None], ResourcePolicy]


class PolicyStore(RecordStore[ResourcePolicy]):
    def __init__(self, redis: Redis, keys: Keys) -> None:
        super().__init__(redis, keys, ResourcePolicy)

    async def function(self, name: str, qualifier: str) -> ResourcePolicy | None:
        return await self._get(self.keys.function_policies(name), qualifier)

    async def change_function(
        self, name: str, qualifier: str, change: PolicyChange
    ) -> ResourcePolicy:
        """Store `change(policy)` of a function version or alias atomically."""
        return await self._change(self.keys.function_policies(name), qualifier, change)

    async def layer(self, name: str, version: int) -> ResourcePolicy | None:
        return await self._get(self.keys.layer_policies(name), str(version))

    async def change_layer(self, name: str, version: int, change: PolicyChange) -> ResourcePolicy:
        """Store `change(policy)` of a layer version atomically."""
        return await self._change(self.keys.layer_policies(name), str(version), change)

    async def _change(self, key: str, field: str, change: PolicyChange) -> ResourcePolicy:
        async def attempt(pipe: Any) -> ResourcePolicy:
            raw = await pipe.hget(key, field)
            policy = change(None if raw is None else self.decode(raw))
            pipe.multi()
            if policy.statements:
                pipe.hset(key, field, ENCODER.encode(policy))
            else:
                pipe.hdel(key, field)
            await pipe.execute()
            return policy

        return await transaction(self.redis, (key,), attempt)
