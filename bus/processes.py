"""Process lifetimes on Linux: children that die with their parent (PR_SET_PDEATHSIG), a
subreaper that adopts orphaned descendants, and the process tree under a pid from /proc.

Elsewhere these are no-ops: the supervisor and the pool still stop what they started.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
from collections.abc import Callable
from pathlib import Path

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
PROC = Path("/proc")


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if not name or not PROC.is_dir():
        return None
    try:
        return ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None


LIBC = _libc()  # loaded before any fork: a forked child only calls it


def die_with_parent(signum: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A preexec_fn that makes the child receive `signum` when this process dies (even by
    SIGKILL); None where the kernel has no such thing."""
    if LIBC is None:
        return None
    parent = os.getpid()
    libc = LIBC

    def preexec() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the line above
            os.kill(os.getpid(), signum)

    return preexec


def become_subreaper() -> bool:
    """Orphaned descendants of this process become its children instead of init's."""
    return LIBC is not None and LIBC.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def parents() -> dict[int, int]:
    """Every visible process's parent pid, by pid."""
    found: dict[int, int] = {}
    for entry in PROC.glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_bytes()
        except OSError:
            continue
        # `pid (comm) state ppid ...`: comm may hold spaces and parentheses.
        found[int(entry.name)] = int(stat[stat.rindex(b")") + 2 :].split()[1])
    return found


def children_of(pid: int, table: dict[int, int] | None = None) -> list[int]:
    table = parents() if table is None else table
    return [child for child, parent in table.items() if parent == pid]


def descendants(pid: int) -> list[int]:
    """Every process under `pid`, whatever sessions or groups they moved to."""
    table = parents()
    found: list[int] = []
    queue = [pid]
    while queue:
        children = children_of(queue.pop(), table)
        found += children
        queue += children
    return found


def kill_all(pids: list[int], signum: int = signal.SIGKILL) -> None:
    for pid in pids:
        try:
            os.kill(pid, signum)
        except (ProcessLookupError, PermissionError):
            pass


def alive(pid: int) -> bool:
    """Whether a process `pid` exists (someone else's counts: it is alive, whatever it is)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_time(pid: int) -> int | None:
    """When `pid` started (clock ticks since boot), which tells a pid from its reuse; None
    once it has ended (a zombie has ended too)."""
    try:
        stat = (PROC / str(pid) / "stat").read_bytes()
    except OSError:
        return None
    fields = stat[stat.rindex(b")") + 2 :].split()
    return None if fields[0] in (b"Z", b"X") else int(fields[19])
