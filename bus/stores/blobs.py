"""Code and layer archives in Redis, keyed by the hex SHA-256 of their bytes: stored once."""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis

from bus.keys import Keys


class BlobStore:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys

    @staticmethod
    def digest(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    async def put(self, data: bytes, sha256_hex: str) -> None:
        await self.redis.set(self.keys.blob(sha256_hex), data, nx=True)

    async def get(self, sha256_hex: str) -> bytes | None:
        data: bytes | None = await self.redis.get(self.keys.blob(sha256_hex))
        return data
