"""What every request handler needs (settings, Redis, stores, reply inbox, Tarn's own client of
the companion endpoint), set up once per app."""

from __future__ import annotations

from dataclasses import dataclass

from quart import current_app
from redis.asyncio import Redis

from bus.aws import Companion
from bus.concurrency import inbox_with_limits
from bus.keys import Keys
from bus.settings import Settings
from bus.stores import Stores
from bus.transport.replies import ReplyInbox
from services.invocations.record_cache import RecordCache


@dataclass(frozen=True, slots=True)
class ApiContext:
    settings: Settings
    redis: Redis
    keys: Keys
    stores: Stores
    inbox: ReplyInbox
    records: RecordCache  # what Invoke reads, cached until it changes
    aws: Companion | None  # None without a companion endpoint: then nobody is asked

    @classmethod
    def create(cls, settings: Settings, redis: Redis) -> ApiContext:
        keys = Keys(settings.key_prefix)
        stores = Stores.create(redis, keys)
        return cls(
            settings=settings,
            redis=redis,
            keys=keys,
            stores=stores,
            inbox=inbox_with_limits(redis, keys, settings),
            records=RecordCache(redis, keys, stores),
            aws=Companion(settings.aws_endpoint, settings.region)
            if settings.aws_endpoint
            else None,
        )

    async def aclose(self) -> None:
        await self.redis.aclose()
        if self.aws is not None:
            await self.aws.aclose()


def api() -> ApiContext:
    context: ApiContext = current_app.extensions["tarn"]
    return context
