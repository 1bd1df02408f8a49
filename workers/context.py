"""What every worker role needs (settings, Redis, its stores, its consumer name and Tarn's own
client of the companion endpoint), set up once per process by the runner."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from bus.aws import Companion
from bus.keys import Keys
from bus.settings import Settings
from bus.stores import Stores


@dataclass(frozen=True, slots=True)
class WorkerContext:
    settings: Settings
    redis: Redis
    keys: Keys
    consumer: str  # this process's consumer name in every consumer group it joins
    stores: Stores
    aws: Companion | None  # None without a companion endpoint: then nobody is asked

    @classmethod
    def create(cls, settings: Settings, redis: Redis, consumer: str) -> WorkerContext:
        keys = Keys(settings.key_prefix)
        return cls(
            settings=settings,
            redis=redis,
            keys=keys,
            consumer=consumer,
            stores=Stores.create(redis, keys),
            aws=Companion(settings.aws_endpoint, settings.region)
            if settings.aws_endpoint
            else None,
        )

    async def aclose(self) -> None:
        """Close the companion client; Redis belongs to whoever opened it."""
        if self.aws is not None:
            await self.aws.aclose()
