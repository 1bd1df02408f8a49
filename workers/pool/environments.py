"""One runtime environment: a sandbox running a runtime, its Runtime API and its log.

It runs one invocation at a time and turns what happens (a posted response or error, an init
error, a timeout, the runtime dying) into what Invoke returns, worded as AWS words it:
https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
from anyio.abc import TaskGroup

from bus.messages import InvokeFunction
from bus.quotas import RUNTIME_RESPONSE_BYTES
from bus.records import FunctionVersion
from bus.settings import Settings
from workers.pool.credentials import RoleCredentials
from workers.pool.executors.base import Executor, LaunchError, LaunchSpec, Sandbox
from workers.pool.logs import EnvironmentLog, report_line, timeout_line
from workers.pool.runtime_api.server import Invocation, Posted, ResponseSink, RuntimeApi
from workers.pool.variables import (
    log_group_name,
    log_stream_name,
    new_session_token,
    with_extension_port,
)

if TYPE_CHECKING:
    from workers.pool.cloudwatch import LogShipper

log = logging.getLogger("tarn.pool")

# AWS gives the init phase of an on-demand environment 10 s of its own.
INIT_LIMIT_S = 10.0
# After the runtime exits, how long to wait for what it sent just before (e.g. /init/error).
EXIT_GRACE_S = 0.5


class State(StrEnum):
    """An environment's life: NEW until started; BUSY with an invocation, READY between
    them; DEAD once its sandbox ended or was killed, never to be used again."""

    NEW = "new"
    READY = "ready"
    BUSY = "busy"
    DEAD = "dead"


# (payload, function error?, REPORT status, REPORT error type)
Settled = tuple[bytes, bool, str | None, str | None]


class Exited:
    """The runtime process ended with an invocation outstanding."""

    __slots__ = ("status",)

    def __init__(self, status: int) -> None:
        self.status = status


class TimedOut:
    """The invocation ran past the function's timeout."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What Invoke returns: the payload, "Unhandled" for a function error, and the log tail."""

    payload: bytes
    function_error: str | None
    log_tail: bytes


def error_body(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


def exit_reason(status: int) -> str:
    """Go's os.ProcessState wording, which Lambda's Runtime.ExitError messages carry."""
    if status >= 0:
        return f"exit status {status}"
    name = signal.strsignal(-status) or f"signal {-status}"
    return f"signal: {name.split(':')[0].lower()}"


class Environment:
    """A runtime environment for one exact function version and revision."""

    def __init__(
        self,
        function: FunctionVersion,
        executor: Executor,
        settings: Settings,
        *,
        extension_port: int = 0,
        shipper: LogShipper | None = None,
        provisioned: bool = False,
    ) -> None:
        self.function = function
        # Started ahead of its invocations for a provisioned concurrency config: kept warm,
        # used first, and its init is not any invocation's.
        self.provisioned = provisioned
        self.key = environment_key(function)
        self.executor = executor
        self.settings = settings
        self.extension_port = extension_port  # 0: no Parameters and Secrets extension
        self._state = State.NEW
        self.last_used = time.monotonic()
        self.api = RuntimeApi(self._handed_out)
        self.log_stream = log_stream_name(function.version)
        self._own_token = new_session_token()
        self.role: RoleCredentials | None = None  # the execution role's, once assumed
        sink = shipper.sink(log_group_name(function), self.log_stream) if shipper else None
        self.log = EnvironmentLog(function.name, sink)
        self.sandbox: Sandbox | None = None
        self._started_at = 0.0
        self._served = 0
        self._timer: asyncio.TimerHandle | None = None

    @property
    def session_token(self) -> str:
        """AWS_SESSION_TOKEN: the role's, or the environment's own with placeholder keys."""
        return self.role.session_token if self.role else self._own_token

    def _endpoint_url(self, runtime_api: str) -> str:
        """Tarn's API on the host the sandbox reaches this worker on, unless a public URL is set."""
        if self.settings.public_url:
            return self.settings.base_url
        return f"http://{runtime_api.rsplit(':', 1)[0]}:{self.settings.port}"

    @property
    def state(self) -> State:
        return self._state

    @property
    def new(self) -> bool:
        """Not started yet: the first invocation starts it."""
        return self.state == State.NEW

    @property
    def dead(self) -> bool:
        return self.state == State.DEAD

    def check_out(self) -> None:
        """Taken from the idle ones (READY) for an invocation."""
        self._state = State.BUSY

    def check_in(self) -> None:
        """Back among the idle ones once an invocation is done and it may go on."""
        self._state = State.READY

    def _die(self) -> None:
        self._state = State.DEAD

    @property
    def reusable(self) -> bool:
        """Alive for sure, not merely not yet noticed dead (its exit may be unprocessed)."""
        return not self.dead and self.sandbox is not None and self.sandbox.running()

    async def start(
        self,
        code_dir: Path,
        tasks: TaskGroup,
        on_exit: Callable[[Environment], None],
        opt_dir: Path | None = None,
    ) -> None:
        """Start the runtime; init runs while the first event waits on /next."""
        port = await self.api.open(self.executor.bind_host)
        function = self.function
        if self.extension_port:
            function = with_extension_port(function, self.extension_port)
        runtime_api = self.executor.runtime_api_address(port)
        spec = LaunchSpec(
            function=function,
            code_dir=code_dir,
            runtime_api=runtime_api,
            region=self.settings.region,
            log_stream=self.log_stream,
            session_token=self.session_token,
            endpoint_url=self._endpoint_url(runtime_api),
            opt_dir=opt_dir,
            role=self.role,
            initialization_type="provisioned-concurrency" if self.provisioned else "on-demand",
            extension_port=self.extension_port,
        )
        self._started_at = time.monotonic()
        try:
            self.sandbox = await self.executor.start(spec, self.log.feed)
        except BaseException:
            self._die()
            self.api.close()
            raise
        tasks.start_soon(self._watch, on_exit)

    async def initialise(self, limit_s: float) -> None:
        """Wait for init to end (a started provisioned environment); LaunchError if the
        runtime failed or exited in it, or took longer than `limit_s`."""
        with anyio.move_on_after(limit_s):
            await self.api.init_over.wait()
        if self.api.first_next_at and not self.dead:
            return
        posted = self.api.init_error
        if posted is not None:
            body = (posted.body or b"").decode(errors="replace")
            raise LaunchError(posted.error_type or "Runtime.InitError", body)
        if self.dead:
            raise LaunchError("Runtime.ExitError", "Runtime exited during init")
        raise LaunchError("Sandbox.Timedout", f"Init did not finish within {limit_s:.0f} s")

    async def invoke(self, command: InvokeFunction, sink: ResponseSink | None = None) -> Outcome:
        """Run one event to its end (a streamed response to `sink`, if given); the environment
        is dead afterwards if it cannot go on."""
        assert self.sandbox is not None
        self._state = State.BUSY
        invocation = Invocation(
            request_id=command.request_id,
            payload=command.payload,
            invoked_arn=command.invoked_arn,
            timeout_ms=self.function.timeout_s * 1000,
            trace_id=command.trace_id,
            client_context=command.client_context,
            sink=sink,
        )
        cold = self._served == 0 and not self.provisioned
        loop = asyncio.get_running_loop()
        limit = self.function.timeout_s + (INIT_LIMIT_S if cold else 0.0)
        self._timer = loop.call_later(limit, self._time_out, invocation)
        self.api.offer(invocation)
        try:
            result = await invocation.result
        except BaseException:  # cancelled mid-run (shutdown): it cannot be reused
            await self.stop()
            raise
        finally:
            self._timer.cancel()
        finished_at = time.monotonic()
        self._served += 1
        return await self._finish(invocation, result, finished_at, cold)

    def launch_failed(self, request_id: str, error: LaunchError) -> Outcome:
        """The outcome of an invocation whose runtime could not even start."""
        self._die()
        message = f"RequestId: {request_id} Error: {error.message}"
        self.log.begin(request_id, self.function.version)
        self.log.note(message)
        self.log.note(error.error_type)
        report = report_line(
            request_id,
            duration_ms=0.0,
            memory_mb=self.function.memory_mb,
            max_memory_mb=0,
            status="error",
            error_type=error.error_type,
        )
        tail = self.log.end(request_id, report)
        return Outcome(error_body(error.error_type, message), "Unhandled", tail)

    async def stop(self) -> None:
        """Kill the sandbox with everything it started; never used again."""
        self._die()
        await self.api.aclose()
        self.log.flush()
        if self.sandbox is not None:
            await self.sandbox.kill()

    def _handed_out(self, invocation: Invocation) -> None:
        """The runtime took the event: from now on the function's own timeout runs."""
        # START goes here, as on AWS: after what init printed, before what the event prints.
        self.log.begin(invocation.request_id, self.function.version)
        if self._timer is not None:
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(invocation.timeout_ms / 1000, self._time_out, invocation)

    def _time_out(self, invocation: Invocation) -> None:
        if not invocation.result.done():
            invocation.result.set_result(TimedOut())

    async def _watch(self, on_exit: Callable[[Environment], None]) -> None:
        """Wait for the runtime to end; fail its invocation if it had one outstanding."""
        assert self.sandbox is not None
        status = await self.sandbox.wait()
        with anyio.move_on_after(EXIT_GRACE_S):
            await self.api.disconnected()
        await self.sandbox.drain()
        if not self.dead:
            log.info("%s environment ended: %s", self.function.name, exit_reason(status))
        self._die()
        current = self.api.current
        if current is not None and not current.result.done():
            current.result.set_result(Exited(status))
        self.api.close()
        await self.sandbox.kill()  # its children too, if it left any
        self.log.flush()
        on_exit(self)

    async def _finish(
        self, invocation: Invocation, result: object, finished_at: float, cold: bool
    ) -> Outcome:
        assert self.sandbox is not None
        init_failed = isinstance(result, Posted) and result.kind == "init_error"
        if isinstance(result, TimedOut) or init_failed:
            # Never reused: a timed-out runtime is still in the event; after a failed init
            # AWS starts the next invocation with a fresh one.
            await self.stop()
        await self.sandbox.drain()  # the function's last output belongs to this invocation
        if not invocation.handed_out_at:  # ended in init: its output, then START, END
            self.log.begin(invocation.request_id, self.function.version)
        payload, failed, status, error_type = self._settle(invocation.request_id, result)
        if self.state == State.BUSY:
            self._state = State.READY
        self.last_used = time.monotonic()
        report = self._report(invocation, finished_at, cold, status, error_type)
        tail = self.log.end(invocation.request_id, report)
        return Outcome(payload, "Unhandled" if failed else None, tail)

    def _report(
        self,
        invocation: Invocation,
        finished_at: float,
        cold: bool,
        status: str | None,
        error_type: str | None,
    ) -> str:
        assert self.sandbox is not None
        init_ms = None
        if cold and self.api.first_next_at:
            init_ms = (self.api.first_next_at - self._started_at) * 1000
        return report_line(
            invocation.request_id,
            duration_ms=(finished_at - (invocation.handed_out_at or finished_at)) * 1000,
            memory_mb=self.function.memory_mb,
            max_memory_mb=self.sandbox.peak_memory_mb(),
            init_ms=init_ms,
            status=status,
            error_type=error_type,
        )

    def _settle(self, request_id: str, result: object) -> Settled:
        """(payload, function error?, REPORT status, REPORT error type) for `result`."""
        if isinstance(result, Posted):
            if result.kind == "init_error":
                return result.body or b"", True, "error", result.error_type or None
            if result.body is None or len(result.body) > RUNTIME_RESPONSE_BYTES:
                message = (
                    "Response payload size exceeded maximum allowed payload size "
                    f"({RUNTIME_RESPONSE_BYTES} bytes)."
                )
                return error_body("Function.ResponseSizeTooLarge", message), True, None, None
            return result.body, result.kind == "error", None, None
        if isinstance(result, TimedOut):
            self.log.note(timeout_line(request_id, self.function.timeout_s))
            message = f"RequestId: {request_id} Error: Task timed out after "
            message += f"{self.function.timeout_s:.2f} seconds"
            return error_body("Sandbox.Timedout", message), True, "timeout", None
        assert isinstance(result, Exited)
        message = f"RequestId: {request_id} Error: Runtime exited with error: "
        message += exit_reason(result.status)
        self.log.note(message)
        self.log.note("Runtime.ExitError")
        return error_body("Runtime.ExitError", message), True, "error", "Runtime.ExitError"


def environment_key(function: FunctionVersion) -> tuple[str, str, str]:
    """Environments are shared only by invocations of the exact same configuration."""
    return (function.name, function.version, function.revision_id)
