"""Starting a real `tarn up` for a benchmark, on a free port and a throwaway data dir."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class RunningStack:
    url: str
    process: subprocess.Popen[bytes]
    ready_s: float


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_stack(*extra_args: str, quiet: bool = True) -> Iterator[RunningStack]:
    with tempfile.TemporaryDirectory() as data:
        port = free_port()
        started = time.perf_counter()
        output = subprocess.DEVNULL if quiet else None
        argv = [sys.executable, "-m", "services.cli", "up", "--port", str(port)]
        process = subprocess.Popen(
            [*argv, "--data-dir", data, *extra_args], stdout=output, stderr=output
        )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_healthy(url, process)
            yield RunningStack(url, process, time.perf_counter() - started)
        finally:
            process.terminate()
            process.wait(timeout=20)


def _wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"tarn up exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_tarn/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.01)
    raise RuntimeError("tarn up did not become healthy within 60 s")
