"""Reserved and account concurrency, counted in Redis across every process that invokes.

https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html: a function with reserved
concurrency N never runs more than N invocations at once (all versions and aliases together;
0 throttles it); the functions without a reservation share what the reservations leave of the
account's limit. Each running invocation is a member of a sorted set, scored by the time after
which it no longer counts, so the slots of a pool process killed mid-invocation free themselves.

An invocation is admitted where it is published (the API, the async worker, the pollers): the
admission and the XADD to the invocations stream are one script, one round trip, so a refused
invocation never reaches a pool, and the pool's own path is a read and a reply. The command
names its slot (`InvokeFunction.slot_key`); the pool frees it in the round trip that replies.
"""

from __future__ import annotations

import time

import msgspec
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from bus.invocation_records import add_record, invocation_record, now_ms
from bus.keys import Keys
from bus.messages import INVOCATION_COMMANDS, InvocationRejected, InvokeFunction, ThrottleReason
from bus.settings import Settings
from bus.stores import FunctionSettingsStore
from bus.transport.replies import REPLY_MARGIN_S, ReplyInbox
from bus.transport.streams import FIELD, STREAM_MAXLEN

# How stale a publisher's view of the reservations may be: a PutFunctionConcurrency applies
# within this long.
REFRESH_S = 1.0
# A slot outlives its invocation's timeout by this much (a cold start, init's own 10 s)
# before it stops counting; only a killed pool process leaves slots to expire.
SLOT_MARGIN_S = REPLY_MARGIN_S
RATE_EXCEEDED = "Rate Exceeded."

# KEYS[1]: the in-flight set, KEYS[2]: the invocations stream; ARGV: limit, request id,
# lifetime ms, the entry's field, the command, the stream's length. 1 published, 0 refused.
# Redis's clock, so processes on several hosts agree on when a slot expires.
ADMIT_AND_PUBLISH = """
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('zremrangebyscore', KEYS[1], '-inf', now)
if redis.call('zcard', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('zadd', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('xadd', KEYS[2], 'MAXLEN', '~', ARGV[6], '*', ARGV[4], ARGV[5])
return 1
"""


class ConcurrencyLimits:
    """Admits invocations within the limits as it publishes them (one Redis call each)."""

    def __init__(self, redis: Redis, keys: Keys, account_limit: int, records_kept: int) -> None:
        self.redis = redis
        self.keys = keys
        self.settings = FunctionSettingsStore(redis, keys)
        self.account_limit = account_limit
        self.records_kept = records_kept  # a throttle's invocation record: 0 for none
        self._reserved: dict[str, int] = {}
        self._unreserved_limit = account_limit
        self._refreshed_at = float("-inf")

    async def publish(self, command: InvokeFunction) -> InvocationRejected | None:
        """Publish `command` to the invocations stream in a slot of its function; the 429
        to answer instead when none is free (then recorded, as the pool records the rest)."""
        if time.monotonic() - self._refreshed_at >= REFRESH_S:
            await self._refresh()
        name = command.function.name
        reserved = self._reserved.get(name)
        if reserved is None:
            key, limit = self.keys.unreserved_in_flight, self._unreserved_limit
            reason: ThrottleReason = "ConcurrentInvocationLimitExceeded"
        else:
            key, limit = self.keys.reserved_in_flight(name), reserved
            reason = "ReservedFunctionConcurrentInvocationLimitExceeded"
        if limit <= 0 or not await self._admitted(command, key, limit):
            refused = throttled(command.request_id, reason)
            record = invocation_record(command, refused, b"", now_ms())
            await add_record(self.redis, self.keys, self.records_kept, record)
            return refused
        return None

    async def _admitted(self, command: InvokeFunction, key: str, limit: int) -> bool:
        lifetime_ms = int((command.function.timeout_s + SLOT_MARGIN_S) * 1000)
        encoded = INVOCATION_COMMANDS.encode(msgspec.structs.replace(command, slot_key=key))
        # EVAL, not a registered script: Redis caches the body by its hash all the same.
        admitted: int = await self.redis.eval(
            ADMIT_AND_PUBLISH,
            2,
            key,
            self.keys.invocations,
            limit,
            command.request_id,
            lifetime_ms,
            FIELD,
            encoded,
            STREAM_MAXLEN,
        )
        return admitted == 1

    async def _refresh(self) -> None:
        """Read every function's reservation (one hash) for the next REFRESH_S."""
        everyone = await self.settings.all()
        self._reserved = {
            s.function_name: s.reserved_concurrency
            for s in everyone
            if s.reserved_concurrency is not None
        }
        self._unreserved_limit = self.account_limit - sum(self._reserved.values())
        self._refreshed_at = time.monotonic()


def inbox_with_limits(redis: Redis, keys: Keys, settings: Settings) -> ReplyInbox:
    """A reply inbox whose invocations are admitted within the concurrency limits."""
    limits = ConcurrencyLimits(
        redis, keys, settings.account_concurrency, settings.invocation_records
    )
    return ReplyInbox(redis, keys, limits)


def release(pipe: Pipeline, command: InvokeFunction) -> None:
    """Queue the release of `command`'s slot on `pipe`, which carries its reply."""
    if command.slot_key:
        pipe.zrem(command.slot_key, command.request_id)


def throttled(request_id: str, reason: ThrottleReason) -> InvocationRejected:
    """Lambda's 429 for an invocation over a concurrency limit."""
    return InvocationRejected(
        request_id=request_id,
        error_type="TooManyRequestsException",
        message=RATE_EXCEEDED,
        status=429,
        reason=reason,
    )
