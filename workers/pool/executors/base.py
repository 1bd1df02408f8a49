"""What an executor is: it starts a runtime's bootstrap (a process or a container) and ends it.

The pool talks to a sandbox through this small interface only (start, kill, wait, logs), so
the process executor and the Docker executor are interchangeable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from bus.records import FunctionVersion

if TYPE_CHECKING:  # the credentials module brings httpx, which a sandbox's user may not need
    from workers.pool.credentials import RoleCredentials

# Receives every chunk the sandbox writes to stdout or stderr, in order.
OutputSink = Callable[[bytes], None]


class UnsupportedFunction(Exception):
    """This executor cannot run the function at all (runtime, package type): not its fault."""


class LaunchError(Exception):
    """The function's own setup stops the runtime from starting, as AWS reports it.

    `error_type` and `message` become the invocation's error body, as a function error.
    """

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


@dataclass(frozen=True, slots=True)
class LaunchSpec:
    """Everything needed to start one runtime environment."""

    function: FunctionVersion
    code_dir: Path  # the unpacked code on the worker's disk
    runtime_api: str  # host:port the sandbox reaches the Runtime API on
    region: str
    log_stream: str  # AWS_LAMBDA_LOG_STREAM_NAME of this environment
    session_token: str  # AWS_SESSION_TOKEN of this environment
    endpoint_url: str  # AWS_ENDPOINT_URL: Tarn's endpoint, as the sandbox reaches it
    opt_dir: Path | None = None  # the function's layers merged in order: its /opt
    role: RoleCredentials | None = None  # the execution role's credentials, if assumed
    initialization_type: str = "on-demand"  # or provisioned-concurrency
    extension_port: int = 0  # the worker's Parameters and Secrets extension (0: none)


class Sandbox(Protocol):
    """One started runtime environment: its bootstrap process (and children) or container."""

    async def wait(self) -> int:
        """Wait for the bootstrap to end: its exit status, or minus the signal that ended it."""
        ...

    def running(self) -> bool:
        """Whether the bootstrap still runs, checked without waiting (before reuse)."""
        ...

    async def kill(self) -> None:
        """End the sandbox and everything it started, at once (SIGKILL). Idempotent."""
        ...

    async def drain(self) -> None:
        """Hand any output already written to the sink now, so it lands in this invocation."""
        ...

    def peak_memory_mb(self) -> int:
        """The most memory the sandbox has used so far (REPORT's Max Memory Used)."""
        ...


class Executor(Protocol):
    """Starts sandboxes; one per worker, chosen by TARN_EXECUTOR."""

    # The address the Runtime API servers listen on.
    bind_host: str

    def runtime_api_address(self, port: int) -> str:
        """`host:port` a sandbox uses to reach a Runtime API listening on `port`."""
        ...

    async def start(self, spec: LaunchSpec, output: OutputSink) -> Sandbox:
        """Start the bootstrap; raises UnsupportedFunction or LaunchError."""
        ...

    async def aclose(self) -> None:
        """Release what the executor holds (clients, orphans); sandboxes are killed first."""
        ...
