"""A container's output through a pipe Tarn owns, not the engine's attach stream.

The runtime's stdout and stderr go into a named pipe (FIFO) on the worker's data dir, mounted
into the container, where a shell wrapper sends them before it runs the image's entrypoint:
`sh -c 'exec >>PIPE 2>&1; exec "$@"' sh ENTRYPOINT...`. What the runtime wrote before it posted
its response is then already in the pipe when the response arrives: one non-blocking read takes
it, where output through the engine trails the response and had to be waited for until quiet.

Zip functions only: their images are AWS's base images (or stand-ins), which have /bin/sh; an
Image function's own image may have no shell, and keeps the attach stream. And only on an
engine that runs on this machine's kernel: a pipe does not cross into a VM (Docker Desktop's
file sharing), where the container's open would wait for ever.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import aiodocker
import aiohttp

# Where the pipe's folder is mounted in the container (read-only: a FIFO is written all the same).
MOUNT = "/var/tarn"
PIPE = "output"
WRAPPER = f'exec >>{MOUNT}/{PIPE} 2>&1; exec "$@"'
READ_SIZE = 65536


async def shares_kernel(docker: aiodocker.Docker) -> bool:
    """Whether the engine's containers run on this process's kernel (a pipe reaches them)."""
    try:
        version = await docker.version()
    except (aiodocker.DockerError, aiohttp.ClientError, OSError):
        return False
    return bool(version.get("KernelVersion") == os.uname().release)


def wrapped(command: list[str]) -> tuple[list[str], list[str]]:
    """The container's Entrypoint and Cmd that run `command` with its output into the pipe."""
    return ["/bin/sh", "-c", WRAPPER, "sh"], command


class OutputPipe:
    """One container's output pipe: a FIFO in its own folder under `root`, read without waiting."""

    def __init__(self, root: Path) -> None:
        self.folder = root / uuid.uuid4().hex
        self.folder.mkdir(parents=True, mode=0o755)
        path = self.folder / PIPE
        os.mkfifo(path)
        os.chmod(path, 0o666)  # whatever user the image's runtime runs as
        # Our own writer keeps the pipe open: no end of file before the container opens it.
        self._read_fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        self._write_fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        self._output: Callable[[bytes], None] | None = None

    def start(self, output: Callable[[bytes], None]) -> None:
        """Hand every chunk to `output`, as it arrives."""
        self._output = output
        asyncio.get_running_loop().add_reader(self._read_fd, self.read)

    def read(self) -> None:
        """Everything the pipe holds now (all the runtime wrote so far)."""
        while self._read_fd >= 0 and self._output is not None:
            try:
                chunk = os.read(self._read_fd, READ_SIZE)
            except BlockingIOError:
                return
            if not chunk:
                return
            self._output(chunk)
            if len(chunk) < READ_SIZE:
                return

    def close(self) -> None:
        """Stop reading (after a last read) and remove the pipe; idempotent."""
        if self._read_fd >= 0:
            self.read()
            if self._output is not None:
                asyncio.get_running_loop().remove_reader(self._read_fd)
            os.close(self._read_fd)
            os.close(self._write_fd)
            self._read_fd = self._write_fd = -1
        shutil.rmtree(self.folder, ignore_errors=True)
