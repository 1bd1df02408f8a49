"""The warm pool worker: serves InvokeFunction from the invocations stream with environments.

Reuse, scaling and retirement follow AWS's execution environment lifecycle
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html): a free
environment of the exact version and revision is reused, else a new one starts, up to the
concurrency cap; idle ones stop after a keep-alive, superseded ones as soon as they are free.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import TypeVar, assert_never

import anyio
from anyio.abc import TaskGroup
from redis.asyncio.client import Pipeline

from bus import concurrency
from bus.archives import CodeError
from bus.folders import FolderError, check_folder
from bus.invocation_records import InvocationRecorder
from bus.messages import (
    INVOCATION_COMMANDS,
    InvocationCommand,
    InvocationCompleted,
    InvocationRejected,
    InvokeFunction,
    RejectionCode,
    Reply,
)
from bus.records import FunctionVersion, LayerCode
from bus.transport.replies import send_reply
from bus.transport.streams import Delivery, StreamConsumer, consumer_config
from workers.code import ensure_unpacked
from workers.consumers import POOL
from workers.context import WorkerContext
from workers.pool.cloudwatch import LogShipper
from workers.pool.credentials import RoleSessions
from workers.pool.environments import Environment, Outcome, State, environment_key
from workers.pool.executors import Executors
from workers.pool.executors.base import Executor, LaunchError, UnsupportedFunction
from workers.pool.extension.server import ParametersSecretsExtension
from workers.pool.held import HeldInvocations
from workers.pool.layers import ensure_opt, opt_key
from workers.pool.provisioned import Provisioner
from workers.pool.reload import Reloads
from workers.pool.runtime_api.response_streams import RedisResponseSink

log = logging.getLogger("tarn.pool")

# AWS's default account concurrency: https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html
DEFAULT_MAX_ENVIRONMENTS = 1000
DEFAULT_KEEP_ALIVE_S = 300.0
# Deliveries taken beyond the cap, so an invocation over it is refused at once (429), not queued.
REJECT_HEADROOM = 256
# At shutdown, how long the last function logs may take to reach CloudWatch Logs.
LOG_FLUSH_S = 2.0
# A cancelled invocation gives its concurrency slot back within this long, or it expires.
RELEASE_GRACE_S = 1.0
# How long a provisioned environment's init may take (an image pull aside, AWS allows long).
PROVISIONED_INIT_S = 120.0

Key = tuple[str, str, str]
T = TypeVar("T")


class WarmPool:
    """Runs invocations in warm runtime environments and replies with their outcome."""

    def __init__(
        self,
        context: WorkerContext,
        *,
        executor: Executor | None = None,
        reap_orphans: bool = False,
        max_environments: int = DEFAULT_MAX_ENVIRONMENTS,
        keep_alive_s: float = DEFAULT_KEEP_ALIVE_S,
    ) -> None:
        settings, keys, redis = context.settings, context.keys, context.redis
        self.settings = settings
        self.redis = redis
        self.blobs = context.stores.blobs
        self.executors = Executors(settings, executor, reap_orphans=reap_orphans)
        self.max_environments = max_environments
        self.keep_alive_s = keep_alive_s
        config = consumer_config(
            settings, keys, stream=keys.invocations, group=POOL, consumer=context.consumer
        )
        self.stream = StreamConsumer(redis, config, INVOCATION_COMMANDS)
        self.held = HeldInvocations(redis, keys, context.consumer, self.stream)
        # Without a companion endpoint the extension answers 502 and logs stay local.
        self.companion = context.aws
        self.extension = ParametersSecretsExtension(self.companion, settings.extension_port)
        self.shipper = (
            LogShipper(self.companion) if self.companion and settings.cloudwatch_logs else None
        )
        self.roles = RoleSessions(self.companion)
        self.provisioner = Provisioner(self, context)
        self.records = InvocationRecorder(keys, settings.invocation_records)
        self.live: set[Environment] = set()
        self._idle: dict[Key, list[Environment]] = {}
        self._revisions: dict[tuple[str, str], tuple[str, str]] = {}
        self._unpacking: dict[str, anyio.Lock] = {}
        self.reloads = Reloads(self._retire_reloaded)
        self._tasks: TaskGroup | None = None
        self._closing = False

    async def run(self) -> None:
        """Serve the invocations stream until cancelled."""
        await self.stream.ensure_group()
        await self.held.answer_own_leftovers()
        async with anyio.create_task_group() as tasks:
            self._tasks = tasks
            await tasks.start(self.extension.run)
            tasks.start_soon(self.provisioner.run)
            if self.shipper is not None:
                tasks.start_soon(self.shipper.run)
            if self.companion is not None:  # its first cold start asks it for credentials
                tasks.start_soon(self.companion.warm_up)
            tasks.start_soon(self._retire_idle_forever)
            tasks.start_soon(self.reloads.close_when_cancelled)
            tasks.start_soon(self.held.watch_forever)
            # An entry stays pending until its reply acknowledges it: the pending entries of a
            # pool that died are what it held, and another pool answers them (held.py).
            # Blocking reads stay well under redis-py's default 5 s socket timeout.
            await self.stream.consume_deliveries(
                self.serve, concurrency=self.max_environments + REJECT_HEADROOM, block_ms=2_000
            )

    async def aclose(self) -> None:
        """Kill every environment; runs shielded after run() was cancelled."""
        self._closing = True
        self.reloads.close()
        while self.live:  # again for any that a task still unwinding started meanwhile
            environments = list(self.live)
            self.live.clear()
            self._idle.clear()
            for environment in environments:
                await environment.stop()
        await self.executors.aclose()
        if self.shipper is not None:
            with anyio.move_on_after(LOG_FLUSH_S):
                await self.shipper.aclose()

    async def serve(self, delivery: Delivery[InvocationCommand]) -> None:
        """Run one invocation and reply; its stream entry, pending until then, is
        acknowledged and its concurrency slot freed in the round trip that replies."""
        command = delivery.message
        match command:
            case InvokeFunction():
                try:
                    reply = await self.invoke(command)
                except Exception as exc:  # a bug of ours: the caller still gets an answer
                    log.exception("invocation %s failed", command.request_id)
                    message = f"Tarn's pool failed to run the invocation: {exc!r}"
                    reply = _rejected(command, "ServiceException", message, 500)
                except BaseException:  # cancelled at shutdown: give the slot back on the way
                    await self._release(command)
                    raise
                answered = partial(
                    self._answered, command=command, reply=reply, entry_id=delivery.entry_id
                )
                await send_reply(self.redis, command.reply_to, reply, answered)
            case _:
                assert_never(command)

    def _answered(
        self, pipe: Pipeline, *, command: InvokeFunction, reply: Reply, entry_id: bytes
    ) -> None:
        """Queue, before the reply, what goes with it: the outcome kept where the command
        asks (before the entry is acknowledged, so that whoever sees it gone finds it), the
        release of its slot, the acknowledgement and the invocation's record."""
        self.held.keep_outcome(pipe, command, reply)
        concurrency.release(pipe, command)
        self.stream.queue_ack(pipe, entry_id)
        self.records.add(pipe, command, reply)

    async def _release(self, command: InvokeFunction) -> None:
        with anyio.CancelScope(shield=True), anyio.move_on_after(RELEASE_GRACE_S):
            async with self.redis.pipeline(transaction=False) as pipe:
                concurrency.release(pipe, command)
                await pipe.execute()

    async def invoke(self, command: InvokeFunction) -> Reply:
        """Run one invocation in a free environment (or a new one) and return the reply."""
        function = command.function
        self._note_revision(function)
        environment = await self._checkout(function)
        if environment is None:  # this process's environments are all busy
            return concurrency.throttled(command.request_id, "ConcurrentInvocationLimitExceeded")
        try:
            outcome = await self._run_streaming(environment, command)
        except (UnsupportedFunction, CodeError) as exc:
            return _rejected(command, "ServiceException", str(exc), 500)
        finally:
            await self._checkin(environment)
        self.records.ran(command.request_id, outcome.log_tail)
        return InvocationCompleted(
            request_id=command.request_id,
            payload=outcome.payload,
            executed_version=function.version,
            function_error=outcome.function_error,
            log_tail=outcome.log_tail if command.log_tail else None,
        )

    async def _run_streaming(self, environment: Environment, command: InvokeFunction) -> Outcome:
        """Run it; a streamed response goes to the command's response stream as it comes, all
        of it before the reply."""
        if not command.stream:
            return await self._run(environment, command, None)
        sink = RedisResponseSink(self.redis, command.reply_to)
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(sink.run)
            try:
                outcome = await self._run(environment, command, sink)
            finally:
                sink.close()
        return sink.overflowed_outcome(outcome) if sink.overflowed else outcome

    async def _run(
        self, environment: Environment, command: InvokeFunction, sink: RedisResponseSink | None
    ) -> Outcome:
        if environment.new:
            try:
                await self._start(environment)
            except LaunchError as exc:
                return environment.launch_failed(command.request_id, exc)
        return await environment.invoke(command, sink)

    async def _start(self, environment: Environment) -> None:
        function = environment.function
        code_dir = await self._code(function)
        assert self._tasks is not None, "run() starts the pool's task group"
        await self.reloads.watch(environment, self._tasks)  # before its code is read
        opt_dir = await self._opt(function.layer_code)
        await self.extension.listen_on(environment.executor.bind_host)
        await self.extension.honour_port(function.environment or {})
        await environment.start(code_dir, self._tasks, self._forget, opt_dir)

    async def provision(self, function: FunctionVersion) -> Environment:
        """Start a provisioned concurrency environment of `function` and keep it idle once
        its init is over; LaunchError, UnsupportedFunction or CodeError if it cannot be."""
        self._note_revision(function)
        environment = await self._new_environment(function, provisioned=True)
        try:
            await self._start(environment)
            await environment.initialise(PROVISIONED_INIT_S)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._retire(environment)
            raise
        await self._checkin(environment)
        return environment

    async def dismiss(self, environment: Environment) -> bool:
        """Stop a provisioned environment no longer wanted, unless it is busy (False)."""
        if environment.state is State.BUSY:
            return False
        await self._retire(environment)
        return True

    async def _code(self, function: FunctionVersion) -> Path:
        """The unpacked code (a burst of cold starts fetches and unpacks it once), or a
        hot-reload folder itself, in place."""
        if function.code_folder is not None:
            try:
                return check_folder(function.code_folder)
            except FolderError as exc:  # removed since it was deployed
                raise CodeError(str(exc)) from None
        sha256_hex = function.code_sha256_hex
        return await self._once(
            sha256_hex, lambda: ensure_unpacked(self.blobs, self.settings.code_dir, sha256_hex)
        )

    async def _opt(self, layers: list[LayerCode]) -> Path | None:
        """The function's layers merged as its /opt (None without layers), built once."""
        if not layers:
            return None
        opt_root = Path(self.settings.data_dir) / "opt"
        return await self._once(
            "opt:" + opt_key(layers),
            lambda: ensure_opt(self.blobs, self.settings.code_dir, opt_root, layers),
        )

    async def _once(self, key: str, prepare: Callable[[], Awaitable[T]]) -> T:
        """`prepare()` under a lock per `key`, so concurrent cold starts wait for one."""
        lock = self._unpacking.setdefault(key, anyio.Lock())
        try:
            async with lock:
                return await prepare()
        finally:
            if not lock.locked() and not lock.statistics().tasks_waiting:
                self._unpacking.pop(key, None)

    async def _checkout(self, function: FunctionVersion) -> Environment | None:
        """A free environment for `function`, or a new one; None at the concurrency cap."""
        idle = self._idle.get(environment_key(function))
        while idle:
            environment = _pick(idle)
            idle.remove(environment)
            if environment.reusable:
                environment.check_out()
                return environment
            self._forget(environment)  # died idle; the caller must not get its ExitError
        if len(self.live) >= self.max_environments and not await self._evict_idle():
            return None
        return await self._new_environment(function)

    async def _new_environment(
        self, function: FunctionVersion, provisioned: bool = False
    ) -> Environment:
        environment = Environment(
            function,
            self.executors.of(function),
            self.settings,
            extension_port=self.extension.port,
            shipper=self.shipper,
            provisioned=provisioned,
        )
        self.live.add(environment)
        environment.role = await self.roles.assume(function)
        self.extension.admit(environment.session_token, function.environment or {})
        return environment

    async def _checkin(self, environment: Environment) -> None:
        if (
            environment.dead
            or environment.sandbox is None  # never started: its code could not be had
            or self._closing
            or self._superseded(environment)
            or self.reloads.stale(environment)
        ):
            await self._retire(environment)
            return
        environment.check_in()
        self._idle.setdefault(environment.key, []).append(environment)

    async def _retire(self, environment: Environment) -> None:
        self._forget(environment)
        await environment.stop()

    def _forget(self, environment: Environment) -> None:
        """Drop `environment` from the books (also called when its runtime exits)."""
        self.live.discard(environment)
        self.extension.dismiss(environment.session_token)
        self.reloads.forget(environment)
        idle = self._idle.get(environment.key)
        if idle and environment in idle:
            idle.remove(environment)
        if not idle:
            self._idle.pop(environment.key, None)

    async def _evict_idle(self) -> bool:
        """At the cap, make room by stopping the least recently used idle environment."""
        idle = [e for es in self._idle.values() for e in es if not e.provisioned]
        if not idle:
            return False
        await self._retire(min(idle, key=lambda e: e.last_used))
        return True

    def _note_revision(self, function: FunctionVersion) -> None:
        """Remember the newest revision seen; idle environments of older ones retire now."""
        ident = (function.name, function.version)
        seen = self._revisions.get(ident)
        if seen is not None and (
            seen[1] == function.revision_id or function.last_modified < seen[0]
        ):
            return
        self._revisions[ident] = (function.last_modified, function.revision_id)
        if seen is None:
            return
        self._stop_idle(list(self._idle.get((function.name, function.version, seen[1]), ())))

    def _retire_reloaded(self) -> None:
        """Hot reload: idle environments whose folders changed stop now (busy ones at check-in)."""
        idle = [e for es in self._idle.values() for e in es]
        self._stop_idle([e for e in idle if self.reloads.stale(e)])

    def _stop_idle(self, environments: list[Environment]) -> None:
        for environment in environments:
            self._forget(environment)
            if self._tasks is not None:
                self._tasks.start_soon(environment.stop)

    def _superseded(self, environment: Environment) -> bool:
        name, version, revision = environment.key
        seen = self._revisions.get((name, version))
        return seen is not None and seen[1] != revision

    async def retire_idle(self) -> None:
        """Stop environments idle for longer than the keep-alive (provisioned ones stay)."""
        cutoff = time.monotonic() - self.keep_alive_s
        for environments in list(self._idle.values()):
            for environment in [
                e for e in environments if e.last_used < cutoff and not e.provisioned
            ]:
                await self._retire(environment)

    async def _retire_idle_forever(self) -> None:
        while True:
            await anyio.sleep(max(min(self.keep_alive_s / 4, 10.0), 0.05))
            await self.retire_idle()


def _rejected(
    command: InvokeFunction, error_type: RejectionCode, message: str, status: int
) -> Reply:
    return InvocationRejected(
        request_id=command.request_id, error_type=error_type, message=message, status=status
    )


def _pick(idle: list[Environment]) -> Environment:
    """A provisioned environment first, else the most recently used: the others may then
    age out."""
    return next((e for e in reversed(idle) if e.provisioned), idle[-1])
