"""Where a DynamoDB Streams mapping has got to in each shard, kept in Redis so that the poller
that takes the mapping over after a crash resumes there (records after it come again: at least
once, as on AWS).
"""

from __future__ import annotations

import msgspec
from redis.asyncio import Redis

from bus.keys import Keys


class ShardCheckpoint(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One shard's position: after `sequence_number` once a record has been processed; before
    that, the `iterator` a LATEST start took (the stream's own position, for as long as the
    endpoint keeps it: moto keeps it forever, AWS for 15 minutes)."""

    sequence_number: str | None = None
    iterator: str | None = None
    done: bool = False  # a closed shard read to its end: its children may start


_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(ShardCheckpoint)


class Checkpoints:
    """The checkpoints of one mapping: one hash field per shard."""

    def __init__(self, redis: Redis, keys: Keys, uuid: str) -> None:
        self.redis = redis
        self.key = keys.stream_checkpoints(uuid)
        self.started_key = keys.stream_started(uuid)

    async def all(self) -> dict[str, ShardCheckpoint]:
        raw = await self.redis.hgetall(self.key)
        return {_text(shard): _DECODER.decode(value) for shard, value in raw.items()}

    async def get(self, shard_id: str) -> ShardCheckpoint | None:
        raw = await self.redis.hget(self.key, shard_id)
        return None if raw is None else _DECODER.decode(raw)

    async def advance(self, shard_id: str, sequence_number: str) -> None:
        """Every record up to `sequence_number` is processed (delivered, discarded or skipped)."""
        await self._put(shard_id, ShardCheckpoint(sequence_number=sequence_number))

    async def hold_iterator(self, shard_id: str, iterator: str) -> None:
        await self._put(shard_id, ShardCheckpoint(iterator=iterator))

    async def finish(self, shard_id: str) -> None:
        await self._put(shard_id, ShardCheckpoint(done=True))

    async def started(self) -> bool:
        """Whether the mapping has chosen its starting positions (its first poller did)."""
        return bool(await self.redis.exists(self.started_key))

    async def mark_started(self) -> None:
        await self.redis.set(self.started_key, b"1")

    async def _put(self, shard_id: str, checkpoint: ShardCheckpoint) -> None:
        await self.redis.hset(self.key, shard_id, _ENCODER.encode(checkpoint))


async def forget_checkpoints(redis: Redis, keys: Keys, uuid: str) -> None:
    """Drop a deleted mapping's checkpoints (its owner calls this once its poller has stopped)."""
    await redis.delete(keys.stream_checkpoints(uuid), keys.stream_started(uuid))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
