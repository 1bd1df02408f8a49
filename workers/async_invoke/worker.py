"""The async worker: Event invocations from the async stream, run through the pool as the API
runs them, retried per AWS, then sent to destinations or the dead-letter queue.

https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html
Delayed retries wait in a Redis sorted set (bus.transport.delays) and go back onto the stream
when due.
"""

from __future__ import annotations

import logging
from typing import assert_never

import anyio
import msgspec

from bus.concurrency import inbox_with_limits
from bus.messages import (
    ASYNC_COMMANDS,
    REPLIES,
    AsyncCommand,
    InvocationCompleted,
    InvocationRejected,
    InvokeAsync,
    Reply,
)
from bus.quotas import ASYNC_EVENT_AGE_S, ASYNC_RETRY_ATTEMPTS
from bus.records import EventInvokeConfig
from bus.transport import delays
from bus.transport.replies import REPLY_MARGIN_S
from bus.transport.streams import FIELD, StreamConsumer, consumer_config
from workers.async_invoke.destinations import Destinations
from workers.async_invoke.slots import FunctionSlots
from workers.consumers import adopt_orphans, held_by_a_live_worker
from workers.context import WorkerContext
from workers.invocations import Outcome

log = logging.getLogger("tarn.async")

GROUP = "async"
CONCURRENCY = 256
# Throttled events: retried from 1 s after the first refusal, doubling up to 5 min (with the
# default 60 s retry base; these scale with it).
THROTTLE_FIRST_SHARE = 1 / 60
THROTTLE_MAX_SHARE = 5.0
# How often a resumed event looks for the outcome of the attempt a pool is still running.
RESUME_POLL_S = 0.1


class AsyncInvoker:
    """Runs Event invocations at least once, with AWS's retries, ages and destinations."""

    def __init__(self, context: WorkerContext) -> None:
        settings, redis, keys = context.settings, context.redis, context.keys
        self.settings = settings
        self.redis = redis
        self.keys = keys
        self.configs = context.stores.event_invoke_configs
        config = consumer_config(
            settings, keys, stream=keys.async_invocations, group=GROUP, consumer=context.consumer
        )
        self.stream = StreamConsumer(redis, config, ASYNC_COMMANDS)
        self.inbox = inbox_with_limits(redis, keys, settings)
        self.slots = FunctionSlots(CONCURRENCY)
        self.destinations = Destinations(context)

    async def run(self) -> None:
        """Serve the async stream and release due retries until cancelled."""
        await self.inbox.open()
        await adopt_orphans(self.stream)
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(self.inbox.run)
            tasks.start_soon(self._release_due_forever)
            # Acknowledged once handled: an event a killed worker held is reclaimed and run.
            await self.stream.consume(
                self.handle, concurrency=CONCURRENCY, block_ms=2_000, redelivered=self.resume
            )

    async def aclose(self) -> None:
        pass

    async def handle(self, command: AsyncCommand) -> None:
        match command:
            case InvokeAsync():
                await self.attempt(command)
            case _:
                assert_never(command)

    async def resume(self, command: AsyncCommand) -> None:
        """An entry a worker that died had taken: its attempt may have run, or still run."""
        match command:
            case InvokeAsync():
                await self.attempt(command, resuming=True)
            case _:
                assert_never(command)

    async def attempt(self, event: InvokeAsync, *, resuming: bool = False) -> None:
        """One attempt (or the outcome of the one a dead worker started); afterwards the
        event is retried later, or its outcome delivered."""
        outcome_key = self.keys.async_outcome(event.request_id, event.attempts)
        config = await self._config(event)
        reply = await self._earlier_outcome(event, outcome_key) if resuming else None
        if reply is None and self._too_old(event, config):
            await self.destinations.failed(event, config, "EventAgeExceeded", None)
            return
        if reply is None:
            reply = await self._invoke(event, outcome_key)
        await self._act_on(event, config, reply)
        await self.redis.delete(outcome_key)  # acted on: a redelivery from now on runs again

    async def _earlier_outcome(self, event: InvokeAsync, outcome_key: str) -> Reply | None:
        """The reply of the attempt a dead worker started, once the pool that runs it has
        finished; None if no pool runs it (it never started, or its pool died too)."""
        deadline = anyio.current_time() + event.function.timeout_s + REPLY_MARGIN_S
        while anyio.current_time() < deadline:
            kept = await self.redis.get(outcome_key)
            if kept is not None:
                return REPLIES.decode(kept)
            if not await held_by_a_live_worker(self.redis, self.keys, event.request_id):
                # The pool keeps the outcome before it lets go of the hold: look once more.
                kept = await self.redis.get(outcome_key)
                return None if kept is None else REPLIES.decode(kept)
            await anyio.sleep(RESUME_POLL_S)
        return None

    async def _act_on(
        self, event: InvokeAsync, config: EventInvokeConfig | None, reply: Outcome
    ) -> None:
        match reply:
            case InvocationRejected(status=429):
                await self._retry_throttled(event, config)
                return
            case InvocationCompleted(function_error=None):
                attempted = msgspec.structs.replace(event, attempts=event.attempts + 1)
                await self.destinations.succeeded(attempted, config, reply)
                return
        await self._after_failure(
            msgspec.structs.replace(event, attempts=event.attempts + 1), config, reply
        )

    async def _after_failure(
        self, event: InvokeAsync, config: EventInvokeConfig | None, reply: Outcome
    ) -> None:
        retries = _setting(config, "maximum_retry_attempts", ASYNC_RETRY_ATTEMPTS)
        if event.attempts > retries:
            await self.destinations.failed(event, config, "RetriesExhausted", reply)
            return
        # 1 min after the first failure, 2 min after the second (with the default base).
        delay_s = self.settings.async_retry_base_s * 2 ** (event.attempts - 1)
        log.info(
            "event %s failed attempt %d; retry in %.1f s", event.request_id, event.attempts, delay_s
        )
        await self._schedule(event, config, delay_s)

    async def _retry_throttled(self, event: InvokeAsync, config: EventInvokeConfig | None) -> None:
        """Not an attempt: retried from 1 s later, doubling up to 5 min (default base)."""
        base = self.settings.async_retry_base_s
        delay_s = min(base * THROTTLE_FIRST_SHARE * 2**event.throttles, base * THROTTLE_MAX_SHARE)
        throttled = msgspec.structs.replace(event, throttles=event.throttles + 1)
        await self._schedule(throttled, config, delay_s)

    async def _schedule(
        self, event: InvokeAsync, config: EventInvokeConfig | None, delay_s: float
    ) -> None:
        """Run `event` again after `delay_s`, or as it ages out if that comes first: it is
        then sent on as EventAgeExceeded, when it ages out, not minutes later."""
        max_age_s = _setting(config, "maximum_event_age_s", ASYNC_EVENT_AGE_S[1])
        expires_ms = event.received_ms + max_age_s * 1000 + 1
        due_ms = min(delays.now_ms() + int(delay_s * 1000), expires_ms)
        await delays.schedule(
            self.redis, self.keys.async_delays, due_ms, ASYNC_COMMANDS.encode(event)
        )

    async def _invoke(self, event: InvokeAsync, outcome_key: str) -> Outcome:
        """Run the event through the pool, exactly as a synchronous Invoke does, in one of
        its function version's slots; the pool keeps the outcome at `outcome_key` too."""
        async with self.slots.slot(event.function.qualified_arn):
            return await self.inbox.invoke(
                event.function,
                event.payload,
                request_id=event.request_id,
                invoked_arn=event.invoked_arn,
                trace_id=event.trace_id,
                outcome_key=outcome_key,
                trigger=f"async:{event.attempts + 1}",
                queued_ms=event.received_ms,
            )

    async def _config(self, event: InvokeAsync) -> EventInvokeConfig | None:
        return await self.configs.get(event.function.name, event.qualifier)

    def _too_old(self, event: InvokeAsync, config: EventInvokeConfig | None) -> bool:
        max_age_s = _setting(config, "maximum_event_age_s", ASYNC_EVENT_AGE_S[1])
        return delays.now_ms() - event.received_ms > max_age_s * 1000

    async def _release_due_forever(self) -> None:
        interval_s = min(max(self.settings.async_retry_base_s / 4, 0.05), 1.0)
        while True:
            try:
                await delays.release_due(
                    self.redis, self.keys.async_delays, self.keys.async_invocations, FIELD
                )
            except Exception:
                log.warning("releasing due retries failed; Redis may be down", exc_info=True)
            await anyio.sleep(interval_s)


def _setting(config: EventInvokeConfig | None, name: str, default: int) -> int:
    value = None if config is None else getattr(config, name)
    return default if value is None else int(value)
