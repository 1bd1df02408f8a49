"""The invocations each pool worker holds, in Redis, so that when one dies (SIGKILL, a crash)
another answers each waiting caller at once with the error of a killed environment, instead of
letting it wait out the function's timeout.

A pool worker acknowledges an invocation's stream entry in the round trip that holds it (a sync
invoke must never run twice), so the stream keeps no pending entries to learn this from: each
worker keeps its own hash instead. An entry still pending is one its pool read but never held
(it died in between): the successor runs it.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Awaitable, Callable

import anyio
import msgspec
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from bus.keys import Keys
from bus.messages import REPLIES, InvocationCompleted, InvokeFunction, Reply
from bus.transport.heartbeats import stop_beating
from bus.transport.replies import send_reply
from workers.consumers import consumers_by_liveness
from workers.pool.environments import error_body, exit_reason

log = logging.getLogger("tarn.pool")

ROLE = "pool"
WATCH_INTERVAL_S = 1.0
# A kept outcome is deleted once acted on; this bounds what a caller that never came back
# leaves behind.
OUTCOME_KEPT_S = 3600


class Held(msgspec.Struct, array_like=True, frozen=True):
    reply_to: str
    version: str


ENCODER = msgspec.msgpack.Encoder()
DECODER = msgspec.msgpack.Decoder(Held)


class HeldInvocations:
    """This worker's held invocations, and the answers for those of pool workers that died."""

    def __init__(self, redis: Redis, keys: Keys, consumer: str) -> None:
        self.redis = redis
        self.keys = keys
        self.consumer = consumer
        self.key = keys.held_invocations(consumer)

    def hold(self, pipe: Pipeline, command: InvokeFunction) -> None:
        """Queue the hold on `pipe`, which admits the invocation in the same trip."""
        held = Held(command.reply_to, command.function.version)
        pipe.hset(self.key, command.request_id, ENCODER.encode(held))

    def release(self, pipe: Pipeline, command: InvokeFunction, reply: Reply) -> None:
        """Queue the release on `pipe`, which sends the invocation's reply in the same trip;
        the reply is kept first where the command asks (before the hold goes, so that whoever
        sees the hold gone finds it)."""
        if command.outcome_key:
            pipe.set(command.outcome_key, REPLIES.encode(reply), ex=OUTCOME_KEPT_S)
        pipe.hdel(self.key, command.request_id)

    async def watch_forever(self, take_over: Callable[[str], Awaitable[None]]) -> None:
        while True:
            try:
                await self.answer_for_dead(take_over)
            except Exception:
                log.warning("checking for dead pool workers failed", exc_info=True)
            await anyio.sleep(WATCH_INTERVAL_S)

    async def answer_for_dead(
        self, take_over: Callable[[str], Awaitable[None]] | None = None
    ) -> int:
        """Answer the invocations of the pool workers that died: this host's whose process is
        gone, and any (another container's, another machine's) silent for DEAD_AFTER_MS; how
        many. `take_over` is first given each dead one's name, to run what it had read but
        not yet held."""
        answered = 0
        _, dead = await consumers_by_liveness(self.redis, self.keys, ROLE)
        for consumer in dead:
            if consumer == self.consumer:
                continue
            if take_over is not None:
                await take_over(consumer)
            answered += await self._answer_all(consumer)
            await stop_beating(self.redis, self.keys, ROLE, consumer)
        return answered

    async def _answer_all(self, consumer: str) -> int:
        key = self.keys.held_invocations(consumer)
        held = await self.redis.hgetall(key)
        for request_id, raw in held.items():
            entry = DECODER.decode(raw)
            await send_reply(self.redis, entry.reply_to, killed(request_id.decode(), entry.version))
        await self.redis.delete(key)
        if held:
            log.warning("answered %d invocations held by %s, which died", len(held), consumer)
        return len(held)


def killed(request_id: str, version: str) -> InvocationCompleted:
    """What Lambda answers when the environment running an invocation is killed."""
    message = f"RequestId: {request_id} Error: Runtime exited with error: "
    message += exit_reason(-signal.SIGKILL)
    return InvocationCompleted(
        request_id=request_id,
        payload=error_body("Runtime.ExitError", message),
        executed_version=version,
        function_error="Unhandled",
    )
