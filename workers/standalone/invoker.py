"""One function run without a stack: one warm environment of the pool's kind (its executor, its
Runtime API, its log), started on the first invocation and kept until retired or closed.

Invocations run one at a time, as in docker-lambda; the function's log is echoed as it comes,
START, END and REPORT lines included, as Lambda writes them.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import anyio
import msgspec
from anyio.abc import TaskGroup

from bus.messages import InvokeFunction
from bus.records import FunctionVersion
from bus.settings import Settings
from workers.pool.environments import Environment, Outcome
from workers.pool.executors import make_executor
from workers.pool.executors.base import Executor, LaunchError, UnsupportedFunction
from workers.pool.logs import EnvironmentLog
from workers.standalone.functions import LocalFunction

__all__ = ["Invoked", "LocalInvoker", "UnsupportedFunction"]


class EchoedLog(EnvironmentLog):
    """An environment's log that also goes, unprefixed and as it arrives, to `echo`."""

    def __init__(self, function_name: str, echo: BinaryIO) -> None:
        super().__init__(function_name)
        self.echo = echo

    def _write(self, data: bytes) -> None:
        self.echo.write(data)
        self.echo.flush()

    def feed(self, chunk: bytes) -> None:
        self._write(chunk)
        super().feed(chunk)

    def begin(self, request_id: str, version: str) -> None:
        super().begin(request_id, version)
        self._write(f"START RequestId: {request_id} Version: {version}\n".encode())

    def note(self, line: str) -> None:
        super().note(line)
        self._write(f"{line}\n".encode())

    def end(self, request_id: str, report: str) -> bytes:
        self._write(f"END RequestId: {request_id}\n{report}\n".encode())
        return super().end(request_id, report)


@dataclass(frozen=True, slots=True)
class Invoked:
    """One invocation's request id and what Invoke would return for it."""

    request_id: str
    outcome: Outcome


class LocalInvoker:
    """Runs a LocalFunction's invocations in one warm environment: `async with` it."""

    def __init__(self, function: LocalFunction, settings: Settings, echo: BinaryIO) -> None:
        self.function = function
        self.settings = settings
        self.echo = echo
        self.record: FunctionVersion = function.version_record(settings.region, settings.account_id)
        self.executor = _executor(function, settings)
        self._environment: Environment | None = None
        self._merged: Path | None = None  # several layers merged, made anew per environment
        self._lock = anyio.Lock()
        self._tasks: TaskGroup | None = None

    async def __aenter__(self) -> LocalInvoker:
        self._tasks = await anyio.create_task_group().__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with anyio.CancelScope(shield=True):
            await self.retire()
            await self.executor.aclose()
        assert self._tasks is not None
        self._tasks.cancel_scope.cancel()
        await self._tasks.__aexit__(exc_type, exc, traceback)

    async def invoke(self, payload: bytes, *, client_context: str | None = None) -> Invoked:
        """Run one event (after any running one); UnsupportedFunction if it cannot run here."""
        request_id = str(uuid.uuid4())
        command = InvokeFunction(
            request_id=request_id,
            function=self.record,
            payload=payload,
            reply_to="",
            invoked_arn=self.record.arn,
            client_context=client_context,
        )
        async with self._lock:
            environment = self._environment
            if environment is None or not environment.reusable:
                environment = Environment(self.record, self.executor, self.settings)
                try:
                    await self._start(environment)
                except LaunchError as exc:
                    return Invoked(request_id, environment.launch_failed(request_id, exc))
            outcome = await environment.invoke(command)
        return Invoked(request_id, outcome)

    async def warm(self) -> None:
        """Start an environment ahead of the first invocation, so its init is done by then
        (docker-lambda's stay-open does so); a failure to start waits for that invocation."""
        async with self._lock:
            if self._environment is None:
                environment = Environment(self.record, self.executor, self.settings)
                with contextlib.suppress(LaunchError):
                    await self._start(environment)

    async def reload(self) -> None:
        """Retire the warm environment once the running invocation (if any) is over, then
        warm a new one: the next invocation runs the code as it is now."""
        async with self._lock:
            await self.retire()
        await self.warm()

    async def retire(self) -> None:
        """Stop the warm environment: the next invocation starts a new one (new code)."""
        environment, self._environment = self._environment, None
        if environment is not None:
            await environment.stop()
        self._drop_merged()

    async def _start(self, environment: Environment) -> None:
        """Start `environment` in place of the warm one; LaunchError if it cannot start."""
        await self.retire()
        environment.log = EchoedLog(self.record.name, self.echo)
        assert self._tasks is not None, "use the invoker with `async with`"
        code = self.function.code.resolve()
        await environment.start(code, self._tasks, self._ended, self._opt_dir())
        self._environment = environment

    def _ended(self, environment: Environment) -> None:
        if self._environment is environment:
            self._environment = None

    def _opt_dir(self) -> Path | None:
        """The layers as one /opt: a single one as it is, several merged in order."""
        layers = [layer.resolve() for layer in self.function.layers]
        if len(layers) <= 1:
            return layers[0] if layers else None
        from workers.pool.layers import merge  # only with several layers: it brings Redis

        scratch = Path(tempfile.mkdtemp(prefix="tarn-opt-"))
        self._merged = scratch
        merge(layers, scratch / "opt")
        return scratch / "opt"

    def _drop_merged(self) -> None:
        if self._merged is not None:
            shutil.rmtree(self._merged, ignore_errors=True)
            self._merged = None


def _executor(function: LocalFunction, settings: Settings) -> Executor:
    if function.executor != "docker":
        return make_executor("process", settings)
    from workers.docker.engine import stack_id

    # Labelled apart from a `tarn up` on the same data dir, which removes its stack's
    # containers when it starts.
    own = msgspec.structs.replace(settings, stack_id=f"{stack_id(settings)}-run")
    return make_executor("docker", own)


async def run_once(
    function: LocalFunction, settings: Settings, payload: bytes, echo: BinaryIO | None = None
) -> Invoked:
    """One invocation in a fresh environment, stopped afterwards; the log goes to `echo`
    (default: stderr) as it comes."""
    async with LocalInvoker(function, settings, echo or sys.stderr.buffer) as invoker:
        return await invoker.invoke(payload)
