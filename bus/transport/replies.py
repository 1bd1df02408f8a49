"""Request/reply over Redis: each API process reads one private reply stream.

The inbox stream is new and read from its start ("0-0"), so a reply that arrives before its
waiter registered is still seen (reading from `$` would lose it). Its reader keeps renewing
its expiry, so the inbox of a process that died goes away by itself, and replies never
recreate a vanished inbox (NOMKSTREAM): one XADD a reply, nothing more.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio
import msgspec
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from bus.keys import Keys
from bus.messages import REPLIES, InvokeFunction, Reply
from bus.records import FunctionVersion
from bus.transport.streams import FIELD

if TYPE_CHECKING:  # bus.concurrency reads REPLY_MARGIN_S from here
    from bus.concurrency import ConcurrencyLimits

log = logging.getLogger(__name__)

INBOX_TTL_S = 600
INBOX_MAXLEN = 10_000


INBOX_RENEW_S = INBOX_TTL_S / 4
# How long an invocation's reply may take beyond the function's own timeout: room for a cold
# start (a Docker image pull aside) before the handler runs.
REPLY_MARGIN_S = 60


async def send_reply(
    redis: Redis, reply_to: str, reply: Reply, before: Callable[[Pipeline], None] | None = None
) -> None:
    """XADD `reply`; `before` queues commands to run first in the same round trip."""
    fields = {FIELD: REPLIES.encode(reply)}
    if before is None:
        added = await redis.xadd(reply_to, fields, maxlen=INBOX_MAXLEN, nomkstream=True)
    else:
        async with redis.pipeline(transaction=False) as pipe:
            before(pipe)
            pipe.xadd(reply_to, fields, maxlen=INBOX_MAXLEN, nomkstream=True)
            added = (await pipe.execute())[-1]
    if added is None:
        log.info("reply to %s dropped: its inbox is gone with its process", reply.request_id)


class _Waiter:
    __slots__ = ("event", "reply")

    def __init__(self) -> None:
        self.event = anyio.Event()
        self.reply: Reply | None = None


class ReplyInbox:
    """Routes replies on this process's reply stream to the requests waiting for them."""

    def __init__(self, redis: Redis, keys: Keys, limits: ConcurrencyLimits) -> None:
        self.redis = redis
        self.key = keys.replies(uuid.uuid4().hex)
        self._dead_letters = keys.dead_letters
        self.limits = limits
        self._waiters: dict[str, _Waiter] = {}
        self._renew_at = 0.0

    def expect(self, request_id: str) -> None:
        """Register interest before publishing the request, so no reply can slip past."""
        self._waiters[request_id] = _Waiter()

    async def invoke(
        self,
        function: FunctionVersion,
        payload: bytes,
        *,
        request_id: str,
        invoked_arn: str,
        client_context: str | None = None,
        log_tail: bool = False,
        trace_id: str = "",
        outcome_key: str = "",
        trigger: str = "api",
        queued_ms: int = 0,
    ) -> Reply | None:
        """Publish one InvokeFunction, replying to this inbox, to the pool; its reply (a 429
        at once, over a concurrency limit), or None when none came within the function's
        timeout and REPLY_MARGIN_S."""
        command = InvokeFunction(
            request_id=request_id,
            function=function,
            payload=payload,
            reply_to=self.key,
            invoked_arn=invoked_arn,
            client_context=client_context,
            log_tail=log_tail,
            trace_id=trace_id,
            outcome_key=outcome_key,
            trigger=trigger,
            queued_ms=queued_ms,
        )
        self.expect(command.request_id)
        try:
            refused = await self.limits.publish(command)
        except BaseException:
            self.forget(command.request_id)
            raise
        if refused is not None:
            self.forget(command.request_id)
            return refused
        return await self.wait(command.request_id, command.function.timeout_s + REPLY_MARGIN_S)

    async def wait(self, request_id: str, timeout_s: float) -> Reply | None:
        """The reply to `request_id`, or None after `timeout_s`."""
        waiter = self._waiters.setdefault(request_id, _Waiter())
        try:
            with anyio.move_on_after(timeout_s):
                await waiter.event.wait()
            return waiter.reply
        finally:
            self._waiters.pop(request_id, None)

    def forget(self, request_id: str) -> None:
        self._waiters.pop(request_id, None)

    async def open(self) -> None:
        """Create the inbox stream (with an expiry); replies are only accepted once it exists."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(self.key, {b"opened": b"1"})
            pipe.expire(self.key, INBOX_TTL_S)
            await pipe.execute()
        self._renew_at = time.monotonic() + INBOX_RENEW_S

    async def run(self) -> None:
        """Read the inbox until cancelled; `open()` must have been called."""
        last_id = b"0-0"
        while True:
            if time.monotonic() >= self._renew_at:
                await self._renew()
            try:
                answer = await self.redis.xread({self.key: last_id}, count=500, block=5_000)
            except Exception:
                log.exception("reading the reply inbox failed; retrying")
                await anyio.sleep(0.5)
                continue
            for _stream, entries in answer or []:
                for entry_id, fields in entries:
                    last_id = entry_id
                    if FIELD in fields:
                        await self._route(fields[FIELD])

    async def _renew(self) -> None:
        try:
            if not await self.redis.expire(self.key, INBOX_TTL_S):
                await self.open()  # expired while Redis was away: make it anew
        except Exception:
            log.warning("renewing the reply inbox failed; will retry", exc_info=True)
        self._renew_at = time.monotonic() + INBOX_RENEW_S

    async def _route(self, raw: bytes) -> None:
        try:
            reply = REPLIES.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            log.error("undecodable reply on %s dead-lettered: %s", self.key, exc)
            fields = {FIELD: raw, b"stream": self.key, b"reason": f"undecodable: {exc}"}
            await self.redis.xadd(self._dead_letters, fields, maxlen=100_000)
            return
        waiter = self._waiters.get(reply.request_id)
        if waiter is None:
            log.info("reply for %s arrived after its request gave up", reply.request_id)
            return
        waiter.reply = reply
        waiter.event.set()
