"""One runtime environment's container: its output stream, its end, its memory, its removal.

The Docker counterpart of the process executor's ProcessSandbox, behind the pool's Sandbox
interface (wait, running, kill, drain, peak_memory_mb); `output` gets every chunk in order,
from the container's output pipe (workers/docker/output.py) when it has one, else from the
engine's attach stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable

import aiodocker
import aiohttp
from aiodocker.stream import Stream

from workers.docker.output import OutputPipe

# Output through the attach stream reaches us through the engine, so it can trail the response
# the runtime posted after it (measured: up to ~1.5 ms at p99). drain() waits for the stream to
# go quiet: 1 ms when it has been idle, but longer while output is flowing, because a function
# that prints a lot arrives in bursts whose gaps under load exceed 1 ms (its last lines were
# being missed).
DRAIN_QUIET_S = 0.001
DRAIN_BUSY_QUIET_S = 0.015
DRAIN_MAX_S = 0.25
# A container's exit code above 128 means a signal only for these: Node.js exits with 128 and
# 129 on its own (an unhandled rejection, an uncaught exception), and others may too.
KILLING_SIGNALS = frozenset(
    {signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGTERM}
    | {signal.SIGILL, signal.SIGFPE, signal.SIGINT}
)
# Where the engine's host keeps a container's peak memory: cgroup v1, cgroupfs or systemd
# driver; then cgroup v2.
MEMORY_FILES = (
    "/sys/fs/cgroup/memory/docker/{id}/memory.max_usage_in_bytes",
    "/sys/fs/cgroup/memory/system.slice/docker-{id}.scope/memory.max_usage_in_bytes",
    "/sys/fs/cgroup/system.slice/docker-{id}.scope/memory.peak",
    "/sys/fs/cgroup/docker/{id}/memory.peak",
)


class DockerSandbox:
    """A started container: its output goes to the sink; it ends when its runtime ends."""

    def __init__(
        self,
        docker: aiodocker.Docker,
        container_id: str,
        output: Callable[[bytes], None],
        pipe: OutputPipe | None = None,
    ) -> None:
        self.docker = docker
        self.container = docker.containers.container(container_id)
        self.container_id = container_id
        self._output = output
        self._pipe = pipe
        self._stream: Stream | None = None
        self._reader: asyncio.Task[int] | None = None
        self._arrived = asyncio.Event()
        self._last_arrival = 0.0  # loop time of the latest output chunk
        self._killed = False
        self._memory_fd = -1
        self._peak_mb = 0

    async def begin(self) -> None:
        """Read its output (from before it can print anything), then start it."""
        if self._pipe is not None:
            self._pipe.start(self._output)
            await self.container.start()
            reader = self._ended()
        else:
            stream = self.container.attach(stdout=True, stderr=True, logs=False)
            await stream.__aenter__()
            self._stream = stream
            await self.container.start()
            reader = self._read(stream)
        # The sandbox outlives the call that starts it and has no task group of its own; its
        # reader ends with the container (or its output stream), or in kill().
        self._reader = asyncio.create_task(reader)
        self._memory_fd = _open_memory_file(self.container_id)

    async def wait(self) -> int:
        assert self._reader is not None, "begin() starts the reader"
        return await asyncio.shield(self._reader)

    def running(self) -> bool:
        return self._reader is not None and not self._reader.done() and not self._killed

    async def kill(self) -> None:
        """Remove the container at once (SIGKILL); idempotent."""
        if self._killed:
            return
        self._killed = True
        with contextlib.suppress(aiodocker.DockerError, aiohttp.ClientError, OSError):
            await self.container.delete(force=True)
        if self._stream is not None:
            await self._stream.close()
        if self._pipe is not None:
            self._pipe.close()
        if self._memory_fd >= 0:
            os.close(self._memory_fd)
            self._memory_fd = -1

    async def drain(self) -> None:
        """The output so far: what the pipe holds (no waiting), or, from the attach stream,
        what arrives until it is quiet (see DRAIN_QUIET_S), at most DRAIN_MAX_S."""
        if self._pipe is not None:
            self._pipe.read()
            return
        if self._reader is None or self._reader.done():
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DRAIN_MAX_S
        busy = loop.time() - self._last_arrival < DRAIN_BUSY_QUIET_S
        quiet = DRAIN_BUSY_QUIET_S if busy else DRAIN_QUIET_S
        while loop.time() < deadline:
            self._arrived.clear()
            try:
                async with asyncio.timeout(quiet):
                    await self._arrived.wait()
            except TimeoutError:
                return

    def peak_memory_mb(self) -> int:
        if self._memory_fd < 0:
            return self._peak_mb
        try:
            peak = int(os.pread(self._memory_fd, 64, 0))
        except (OSError, ValueError):
            return self._peak_mb
        self._peak_mb = max(self._peak_mb, peak // (1024 * 1024))
        return self._peak_mb

    async def _read(self, stream: Stream) -> int:
        """Hand output to the sink until the container's streams close; then its status."""
        try:
            while (message := await stream.read_out()) is not None and not self._killed:
                # After kill() only the runtime's complaints about its lost Runtime API come.
                self._output(message.data)
                self._last_arrival = asyncio.get_running_loop().time()
                self._arrived.set()
        except (aiohttp.ClientError, OSError):
            pass  # the engine dropped the stream: the container is gone or going
        return await self._status()

    async def _ended(self) -> int:
        """Wait for the container to end (its output comes through the pipe); its status."""
        with contextlib.suppress(aiodocker.DockerError, aiohttp.ClientError, OSError):
            await self.container.wait()
        if self._pipe is not None:
            self._pipe.read()  # its last words
        return await self._status()

    async def _status(self) -> int:
        """The exit status as the process executor gives it: minus the signal that ended it."""
        if self._killed:
            return -signal.SIGKILL
        try:
            result = await self.container.wait()
            state = (await self.container.show())["State"]
        except (aiodocker.DockerError, aiohttp.ClientError, OSError):
            return -signal.SIGKILL  # removed meanwhile: only we remove it, with a kill
        if state.get("OOMKilled"):
            return -signal.SIGKILL  # the kernel's OOM killer: Lambda says "signal: killed"
        code = int(result.get("StatusCode", state.get("ExitCode", 0)))
        if code > 128 and (code - 128) in KILLING_SIGNALS:
            return 128 - code
        return code


def _open_memory_file(container_id: str) -> int:
    for pattern in MEMORY_FILES:
        try:
            return os.open(pattern.format(id=container_id), os.O_RDONLY)
        except OSError:
            continue
    return -1  # not visible from here (another host, another cgroup namespace): REPORT says 0
