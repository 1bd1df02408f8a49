"""What a `tarn up` that did not stop left behind: its pid file under the data dir names its
processes, so a new `tarn up` ends those still running instead of refusing to start."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import msgspec

from bus.processes import descendants, kill_all, start_time

PID_FILE = "tarn.pids"
GONE_WAIT_S = 5.0


class Process(msgspec.Struct, array_like=True):
    name: str
    pid: int
    started: int | None  # tells the pid from a later process that reuses it

    def alive(self) -> bool:
        return self.started is not None and start_time(self.pid) == self.started


class PidFile(msgspec.Struct):
    supervisor: Process
    children: list[Process] = msgspec.field(default_factory=list)


def record(data_dir: Path, children: dict[str, int]) -> None:
    """Write this supervisor's pid and its children's, atomically."""
    me = Process("tarn up", os.getpid(), start_time(os.getpid()))
    running = [Process(name, pid, start_time(pid)) for name, pid in children.items()]
    temporary = data_dir / f".{PID_FILE}.{os.getpid()}"
    temporary.write_bytes(msgspec.json.encode(PidFile(me, running)))
    temporary.replace(data_dir / PID_FILE)


def forget(data_dir: Path) -> None:
    (data_dir / PID_FILE).unlink(missing_ok=True)


def running_supervisor(data_dir: Path) -> int | None:
    """The pid of a `tarn up` still running on `data_dir`, if any."""
    recorded = _read(data_dir)
    if recorded is None or recorded.supervisor.pid == os.getpid():
        return None
    return recorded.supervisor.pid if recorded.supervisor.alive() else None


def clean(data_dir: Path) -> str | None:
    """End what a crashed `tarn up` left running; what was done, in a sentence, or None."""
    recorded = _read(data_dir)
    if recorded is None:
        return None
    left = [child for child in recorded.children if child.alive()]
    forget(data_dir)
    if not left:
        return "removed the pid file of a Tarn that did not stop; none of its processes were left"
    trees = [pid for child in left for pid in (child.pid, *descendants(child.pid))]
    kill_all(trees, signal.SIGKILL)
    deadline = time.monotonic() + GONE_WAIT_S
    while any(child.alive() for child in left) and time.monotonic() < deadline:
        time.sleep(0.05)
    names = ", ".join(f"{child.name} (pid {child.pid})" for child in left)
    return f"a Tarn that did not stop had left {names} running on this data dir: ended them"


def _read(data_dir: Path) -> PidFile | None:
    try:
        return msgspec.json.decode((data_dir / PID_FILE).read_bytes(), type=PidFile)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None
