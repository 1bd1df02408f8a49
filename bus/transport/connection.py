"""Opening the Redis connection every Tarn process shares, from the settings."""

from __future__ import annotations

from redis.asyncio import Redis

from bus.settings import Settings

SOCKET_TIMEOUT_S = 30


def connect(settings: Settings) -> Redis:
    """A client on `settings.redis_url` (redis://, rediss:// or unix://), bytes in and out."""
    if not settings.redis_url:
        raise ValueError("TARN_REDIS_URL is empty: `tarn up` sets it; name a Redis server")
    # Blocking stream reads wait up to a few seconds: the socket timeout must outlast them.
    return Redis.from_url(
        settings.redis_url,
        decode_responses=False,
        max_connections=256,
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=5,
    )
