"""The generic record store: msgspec records in Redis hashes, one field per record.

Every typed store (functions, aliases, layers, mappings, event-invoke configs, ...) is one of
these with its own key names and domain methods. Updates are optimistic transactions (WATCH,
read, decide, MULTI/EXEC), so several API processes and workers never lose each other's writes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import msgspec
from redis.asyncio import Redis

from bus.keys import Keys
from bus.transport.transactions import transaction

R = TypeVar("R", bound=msgspec.Struct)

ENCODER = msgspec.msgpack.Encoder()


class RecordMissing(LookupError):
    """The record to update is gone (deleted meanwhile)."""


class RecordStore(Generic[R]):
    """Records of one type, kept as msgpack in Redis hashes: `key` names the hash (a function's
    aliases, the mappings, ...), `field` the record in it (an alias name, a UUID, ...)."""

    def __init__(self, redis: Redis, keys: Keys, record_type: type[R]) -> None:
        self.redis = redis
        self.keys = keys
        self._decoder = msgspec.msgpack.Decoder(record_type)

    def decode(self, raw: bytes) -> R:
        return self._decoder.decode(raw)

    async def _get(self, key: str, field: str) -> R | None:
        raw = await self.redis.hget(key, field)
        return None if raw is None else self._decoder.decode(raw)

    async def _all(self, key: str) -> list[R]:
        """Every record in the hash, in no particular order."""
        raw = await self.redis.hgetall(key)
        return [self._decoder.decode(value) for value in raw.values()]

    async def _put(self, key: str, field: str, record: R) -> None:
        await self.redis.hset(key, field, ENCODER.encode(record))

    def _changed(self, pipe: Any, record: R) -> None:
        """Queue, in the transaction that stores `record`, what else a change of it needs."""

    async def _delete(self, key: str, field: str) -> bool:
        """Remove the record; False if there was none."""
        return bool(await self.redis.hdel(key, field))

    async def _update(self, key: str, field: str, change: Callable[[R], R]) -> R:
        """Store `change(stored record)` atomically; RecordMissing if there is none.
        `change` may raise to refuse."""

        def existing(current: R | None) -> R:
            if current is None:
                raise RecordMissing(f"{key} {field}")
            return change(current)

        return await self._write(key, field, existing)

    async def _write(
        self,
        key: str,
        field: str,
        change: Callable[[R | None], R],
        watched: tuple[str, ...] = (),
    ) -> R:
        """Store `change(stored record or None)` atomically, also against changes to the
        `watched` keys; `change` may raise to refuse."""

        async def attempt(pipe: Any) -> R:
            raw = await pipe.hget(key, field)
            record = change(None if raw is None else self._decoder.decode(raw))
            pipe.multi()
            pipe.hset(key, field, ENCODER.encode(record))
            self._changed(pipe, record)
            await pipe.execute()
            return record

        return await transaction(self.redis, (key, *watched), attempt)


def announce_change(pipe: Any, keys: Keys, name: str) -> None:
    """Queue the news that function `name`'s versions or aliases change (in the transaction
    that changes them): API processes drop what they cached of it."""
    pipe.publish(keys.record_changes, name)


async def names_after(redis: Redis, key: str, marker: str | None, count: int) -> list[str]:
    """Up to `count` names from the sorted set `key` (all scores 0) in order, after `marker`."""
    start = f"({marker}" if marker else "-"
    names = await redis.zrangebylex(key, start, "+", 0, count)
    return [n.decode() for n in names]
