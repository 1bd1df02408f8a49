"""Reserved and account concurrency, counted in Redis across every pool process.

https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html: a function with reserved
concurrency N never runs more than N invocations at once (all versions and aliases together;
0 throttles it); the functions without a reservation share what the reservations leave of the
account's limit. Each running invocation is a member of a sorted set, scored by the time after
which it no longer counts, so the slots of a pool process killed mid-invocation free themselves.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from bus.keys import Keys
from bus.messages import ThrottleReason
from bus.stores import FunctionSettingsStore
from bus.transport.replies import REPLY_MARGIN_S

log = logging.getLogger("tarn.pool")

# How stale a pool's view of the reservations may be: a PutFunctionConcurrency applies
# within this long.
REFRESH_S = 1.0
# A slot outlives its invocation's timeout by this much (a cold start, init's own 10 s)
# before it stops counting; only a killed pool process leaves slots to expire.
SLOT_MARGIN_S = REPLY_MARGIN_S

# KEYS[1]: the in-flight set; ARGV: limit, request id, lifetime ms. 1 admitted, 0 refused.
# Redis's clock, so pool processes on several hosts agree on when a slot expires.
ACQUIRE = """
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('zremrangebyscore', KEYS[1], '-inf', now)
if redis.call('zcard', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('zadd', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
return 1
"""


@dataclass(frozen=True, slots=True)
class Slot:
    """One running invocation's place in an in-flight set."""

    key: str
    request_id: str


class Throttled(Exception):
    """No concurrency left for the function; `reason` is AWS's ThrottleReason."""

    def __init__(self, reason: ThrottleReason) -> None:
        super().__init__(reason)
        self.reason: ThrottleReason = reason


class ConcurrencyLimits:
    """Admits invocations within the limits (one Redis call each) and frees their slots."""

    def __init__(
        self, redis: Redis, keys: Keys, settings: FunctionSettingsStore, account_limit: int
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.settings = settings
        self.account_limit = account_limit
        self._reserved: dict[str, int] = {}
        self._unreserved_limit = account_limit
        self.refreshed_at = 0.0

    async def refresh(self) -> None:
        """Read every function's reservation (one hash) for the next REFRESH_S."""
        everyone = await self.settings.all()
        self._reserved = {
            s.function_name: s.reserved_concurrency
            for s in everyone
            if s.reserved_concurrency is not None
        }
        self._unreserved_limit = self.account_limit - sum(self._reserved.values())
        self.refreshed_at = time.monotonic()

    async def refresh_forever(self) -> None:
        while True:
            await anyio.sleep(REFRESH_S)
            try:
                await self.refresh()
            except Exception:
                log.warning("reading reserved concurrency failed; will retry", exc_info=True)

    async def acquire(
        self,
        function_name: str,
        request_id: str,
        timeout_s: int,
        along: Callable[[Pipeline], None] | None = None,
    ) -> Slot:
        """A slot for one invocation of `function_name`; raises Throttled at the limit.
        `along` queues writes that travel in the same round trip (the pool's hold)."""
        reserved = self._reserved.get(function_name)
        if reserved is None:
            key, limit = self.keys.unreserved_in_flight, self._unreserved_limit
            reason: ThrottleReason = "ConcurrentInvocationLimitExceeded"
        else:
            key, limit = self.keys.reserved_in_flight(function_name), reserved
            reason = "ReservedFunctionConcurrentInvocationLimitExceeded"
        if limit <= 0:
            raise Throttled(reason)
        lifetime_ms = int((timeout_s + SLOT_MARGIN_S) * 1000)
        async with self.redis.pipeline(transaction=False) as pipe:
            if along is not None:
                along(pipe)
            # EVAL, not a registered script: in a pipeline, redis-py sends SCRIPT EXISTS
            # first, a round trip of its own on every invoke; Redis caches the body by hash.
            pipe.eval(ACQUIRE, 1, key, limit, request_id, lifetime_ms)
            *_, admitted = await pipe.execute()
        if not admitted:
            raise Throttled(reason)
        return Slot(key, request_id)

    @staticmethod
    def release(pipe: Pipeline, slot: Slot) -> None:
        """Queue the slot's release on `pipe`, which carries the reply in the same trip."""
        pipe.zrem(slot.key, slot.request_id)
