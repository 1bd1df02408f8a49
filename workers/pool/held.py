"""The invocations each pool worker holds, so that when one dies (SIGKILL, a crash) another
answers each waiting caller at once with the error of a killed environment, instead of letting
it wait out the function's timeout.

What a pool worker holds is its pending entries in the invocations stream: it acknowledges an
entry in the round trip that replies to it, never before, and nobody reclaims an entry for
being old (a long invocation is not a lost one). A pool that dies leaves its entries pending;
another answers each as killed, frees its concurrency slot and acknowledges it. An invocation
is never run twice: one that its pool had read but not yet started is answered as killed too.
"""

from __future__ import annotations

import logging
import signal
from functools import partial

import anyio
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from bus import concurrency
from bus.keys import Keys
from bus.messages import REPLIES, InvocationCommand, InvocationCompleted, InvokeFunction, Reply
from bus.transport.heartbeats import stop_beating
from bus.transport.replies import send_reply
from bus.transport.streams import StreamConsumer
from workers.consumers import POOL, consumers_by_liveness
from workers.pool.environments import error_body, exit_reason

log = logging.getLogger("tarn.pool")

WATCH_INTERVAL_S = 1.0
# A kept outcome is deleted once acted on; this bounds what a caller that never came back
# leaves behind.
OUTCOME_KEPT_S = 3600


class HeldInvocations:
    """Outcomes kept for the async worker, and the answers for pool workers that died."""

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        consumer: str,
        stream: StreamConsumer[InvocationCommand],
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.consumer = consumer
        self.stream = stream

    @staticmethod
    def keep_outcome(pipe: Pipeline, command: InvokeFunction, reply: Reply) -> None:
        """Queue the reply's keeping where the command asks, on `pipe`, which lets go of the
        invocation's entry after it."""
        if command.outcome_key:
            pipe.set(command.outcome_key, REPLIES.encode(reply), ex=OUTCOME_KEPT_S)

    async def watch_forever(self) -> None:
        while True:
            try:
                await self.answer_for_dead()
            except Exception:
                log.warning("checking for dead pool workers failed", exc_info=True)
            await anyio.sleep(WATCH_INTERVAL_S)

    async def answer_own_leftovers(self) -> int:
        """Answer what this consumer name held before a restart (a name given by
        TARN_CONSUMER outlives its process); call before consuming."""
        return await self._answer_all(self.consumer)

    async def answer_for_dead(self) -> int:
        """Answer the invocations of the pool workers that died: this host's whose process is
        gone, and any (another container's, another machine's) silent for DEAD_AFTER_MS; how
        many."""
        answered = 0
        _, dead = await consumers_by_liveness(self.redis, self.keys, POOL)
        for consumer in dead:
            if consumer == self.consumer:
                continue
            answered += await self._answer_all(consumer)
            await stop_beating(self.redis, self.keys, POOL, consumer)
        return answered

    async def _answer_all(self, consumer: str) -> int:
        answered = 0
        while deliveries := await self.stream.claim_from(consumer):
            for delivery in deliveries:
                command = delivery.message
                let_go = partial(self._let_go, command=command, entry_id=delivery.entry_id)
                reply = killed(command.request_id, command.function.version)
                await send_reply(self.redis, command.reply_to, reply, let_go)
            answered += len(deliveries)
        if answered:
            log.warning("answered %d invocations held by %s, which died", answered, consumer)
        return answered

    def _let_go(self, pipe: Pipeline, *, command: InvokeFunction, entry_id: bytes) -> None:
        concurrency.release(pipe, command)
        self.stream.queue_ack(pipe, entry_id)


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
