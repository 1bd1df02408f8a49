"""Invoking a function from a worker exactly as a synchronous Invoke does: an InvokeFunction on
the invocations stream, and its outcome from this worker's own reply inbox.

The async worker and the event-source pollers both invoke this way.
"""

from __future__ import annotations

from redis.asyncio import Redis

from bus.keys import Keys
from bus.messages import (
    InvocationCompleted,
    InvocationRejected,
)
from bus.records import FunctionVersion
from bus.replies import ReplyInbox

# None: no reply in time (the pool worker died or the event waited too long for room).
Outcome = InvocationCompleted | InvocationRejected | None


class Invoker:
    """Sends invocations to the pool and waits for their outcomes; `run` serves the inbox."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys
        self.inbox = ReplyInbox(redis, keys)

    async def open(self) -> None:
        await self.inbox.open()

    async def run(self) -> None:
        """Route replies to their waiting invocations until cancelled (after `open`)."""
        await self.inbox.run()

    async def invoke(
        self,
        function: FunctionVersion,
        payload: bytes,
        *,
        request_id: str,
        invoked_arn: str,
        trace_id: str = "",
    ) -> Outcome:
        return await self.inbox.invoke(
            function, payload, request_id=request_id, invoked_arn=invoked_arn, trace_id=trace_id
        )
