"""What every request handler needs (settings, Redis, stores, reply inbox), set up once per app."""

from __future__ import annotations

from dataclasses import dataclass

from quart import current_app
from redis.asyncio import Redis

from bus.keys import Keys
from bus.replies import ReplyInbox
from bus.settings import Settings
from bus.state import BlobStore, FunctionStore


@dataclass(frozen=True, slots=True)
class ApiContext:
    settings: Settings
    redis: Redis
    keys: Keys
    functions: FunctionStore
    blobs: BlobStore
    inbox: ReplyInbox

    @classmethod
    def create(cls, settings: Settings, redis: Redis) -> ApiContext:
        keys = Keys(settings.key_prefix)
        return cls(
            settings=settings,
            redis=redis,
            keys=keys,
            functions=FunctionStore(redis, keys),
            blobs=BlobStore(redis, keys),
            inbox=ReplyInbox(redis, keys),
        )


def api() -> ApiContext:
    context: ApiContext = current_app.extensions["tarn"]
    return context
