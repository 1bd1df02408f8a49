"""Control groups for the process executor: MemorySize and Lambda's process cap, enforced by
the kernel as Lambda's own sandbox does, wherever this process may make cgroups.

One group per pool process (`tarn-<pid>`), one per environment under it, under this process's
own cgroup: memory (v1 `memory.limit_in_bytes`, v2 `memory.max`; no swap) and pids
(`pids.max`). A bootstrap joins its group before it execs, so everything it starts is counted
and can be found again. Where cgroups cannot be made (a container with /sys/fs/cgroup
read-only, no root, not Linux) `CgroupRoot.detect()` is None and the executor falls back to
watching resident memory.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from bus.processes import alive
from bus.quotas import PROCESSES_PER_ENVIRONMENT

log = logging.getLogger("tarn.pool")

CGROUP_FS = Path("/sys/fs/cgroup")
MIB = 1024 * 1024
# How long removing an ended environment's group waits for its killed processes to leave it.
REMOVE_WAIT_S = 2.0


@dataclass(frozen=True, slots=True)
class CgroupRoot:
    """Where this pool process makes its environments' groups: one folder per hierarchy (v2:
    one; v1: the memory and the pids hierarchies)."""

    version: int
    bases: tuple[Path, ...]

    @classmethod
    def detect(cls, owner_pid: int | None = None) -> CgroupRoot | None:
        """This process's group for environments, made and ready, or None where it cannot be."""
        owner = f"tarn-{owner_pid or os.getpid()}"
        try:
            version, parents = _parents()
            if version == 2:
                _enable_v2_controllers(parents[0])
            root = cls(version, tuple(parent / owner for parent in parents))
            for base in root.bases:
                base.mkdir(exist_ok=True)
            return root
        except (OSError, ValueError) as exc:
            log.info("process executor: no cgroups (%s); memory is watched instead", exc)
            return None

    def environment(self, name: str, memory_mb: int) -> EnvironmentCgroup:
        """A new group for one environment, with its limits set."""
        folders = tuple(base / name for base in self.bases)
        for folder in folders:
            folder.mkdir()
        group = EnvironmentCgroup(self.version, folders)
        try:
            group.limit(memory_mb)
        except OSError:
            group.remove()
            raise
        return group

    def remove(self) -> None:
        """End what is left in this pool process's groups and remove them (at its stop)."""
        _remove_tree(self.bases)


@dataclass(frozen=True, slots=True)
class EnvironmentCgroup:
    version: int
    folders: tuple[Path, ...]

    def limit(self, memory_mb: int) -> None:
        memory, pids = (self.folders[0], self.folders[0]) if self.version == 2 else self.folders
        if self.version == 2:
            (memory / "memory.max").write_text(str(memory_mb * MIB))
            with contextlib.suppress(FileNotFoundError):  # no swap accounting: nothing to cap
                (memory / "memory.swap.max").write_text("0")
        else:
            (memory / "memory.limit_in_bytes").write_text(str(memory_mb * MIB))
            with contextlib.suppress(FileNotFoundError, PermissionError):
                (memory / "memory.memsw.limit_in_bytes").write_text(str(memory_mb * MIB))
            with contextlib.suppress(OSError):  # swapping instead of the OOM kill Lambda does
                (memory / "memory.swappiness").write_text("0")
        (pids / "pids.max").write_text(str(PROCESSES_PER_ENVIRONMENT))

    def join(self) -> None:
        """Move the calling process into the group: run in the child, before it execs."""
        pid = str(os.getpid()).encode()
        for folder in self.folders:
            fd = os.open(folder / "cgroup.procs", os.O_WRONLY)
            try:
                os.write(fd, pid)
            finally:
                os.close(fd)

    def pids(self) -> list[int]:
        return _members(self.folders)

    def remove(self) -> None:
        _remove_tree(self.folders)


def sweep_stale() -> int:
    """End and remove the groups of pool processes that are gone (a crash leaves nothing)."""
    removed = 0
    try:
        _, parents = _parents()
    except (OSError, ValueError):
        return 0
    for parent in parents:
        for group in parent.glob("tarn-*"):
            owner = group.name.removeprefix("tarn-")
            if owner.isdigit() and not alive(int(owner)):
                _remove_tree((group,))
                removed += 1
    return removed


_V1 = ("memory", "pids")


def _parents() -> tuple[int, tuple[Path, ...]]:
    """The cgroup version, and this process's own group in each hierarchy pool groups go in:
    v2's one, v1's memory and pids."""
    if (CGROUP_FS / "cgroup.controllers").exists():
        return 2, (CGROUP_FS / _own_path(""),)
    return 1, tuple(CGROUP_FS / name / _own_path(name) for name in _V1)


def _own_path(controller: str) -> str:
    """This process's cgroup in the hierarchy of `controller` ("" for v2), relative."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, names, path = line.split(":", 2)
        if (controller == "" and names == "") or controller in names.split(","):
            return path.lstrip("/")
    raise ValueError(f"this process is in no {controller or 'unified'} cgroup")


def _enable_v2_controllers(parent: Path) -> None:
    wanted = {"memory", "pids"}
    available = set((parent / "cgroup.controllers").read_text().split())
    if not wanted <= available:
        raise ValueError(f"cgroup {parent} lacks the {' and '.join(sorted(wanted))} controllers")
    enabled = set((parent / "cgroup.subtree_control").read_text().split())
    if not wanted <= enabled:  # fails where the parent holds processes itself (v2's rule)
        (parent / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in wanted))


def _members(folders: tuple[Path, ...]) -> list[int]:
    found: set[int] = set()
    for folder in folders:
        for procs in folder.rglob("cgroup.procs"):
            with contextlib.suppress(OSError, ValueError):
                found.update(int(line) for line in procs.read_text().split())
    return sorted(found)


def _remove_tree(folders: tuple[Path, ...]) -> None:
    """Kill every process in `folders` (and groups under them), then remove them, deepest
    first; a group still holding processes that are slow to die is retried briefly."""
    for pid in _members(folders):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + REMOVE_WAIT_S
    for folder in folders:
        if not folder.is_dir():
            continue
        inner = sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True)
        for group in [*inner, folder]:
            while True:
                try:
                    group.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        log.warning("could not remove cgroup %s: processes remain", group)
                        break
                    time.sleep(0.01)
