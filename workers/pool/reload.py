"""Hot reload: the folders this pool's environments run code (and layers) from, watched.

Each pool process watches, with watchfiles, the hot-reload folders of its own live
environments, from just before the first of them starts until the last is gone. A burst of
changes (debounced) is one reload: the folder's generation moves on, idle environments that
started from an older one retire at once, busy ones when their invocation ends, so the next
invoke starts an environment on the new code. Nothing is copied or unpacked.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import anyio
from anyio.abc import TaskGroup, TaskStatus
from watchfiles import Change, DefaultFilter, awatch
from watchfiles.main import FileChange

from bus.folders import IGNORED_DIRS

if TYPE_CHECKING:
    from workers.pool.environments import Environment

log = logging.getLogger("tarn.pool")

# watchfiles groups changes until none came for STEP_MS (at most DEBOUNCE_MS): a burst of
# saves, or a `git checkout`, is one reload; a single save reloads after about STEP_MS.
STEP_MS = 30
DEBOUNCE_MS = 1_600


class Reloads:
    """Watches folders while environments use them; says which environments are stale."""

    def __init__(self, on_reload: Callable[[], None]) -> None:
        self._on_reload = on_reload  # retires the idle environments that went stale
        self._generations: dict[str, int] = {}
        self._started_on: dict[Environment, dict[str, int]] = {}
        self._users: dict[str, set[Environment]] = {}
        self._stops: dict[str, anyio.Event] = {}
        self.count = 0  # reloads so far (tests and the benchmark read it)

    async def watch(self, environment: Environment, tasks: TaskGroup) -> None:
        """Before `environment` starts: its folders watched, their generation noted."""
        folders = environment.function.hot_reload_folders
        if not folders:
            return
        self._started_on[environment] = {f: self._generations.get(f, 0) for f in folders}
        for folder in folders:
            self._users.setdefault(folder, set()).add(environment)
            if folder not in self._stops:
                await tasks.start(self._watch, folder)

    def stale(self, environment: Environment) -> bool:
        """Whether a folder `environment` runs from changed since it started."""
        started = self._started_on.get(environment, {})
        return any(self._generations.get(f, 0) != g for f, g in started.items())

    def forget(self, environment: Environment) -> None:
        """`environment` is gone; a folder no environment uses any more is not watched."""
        for folder in self._started_on.pop(environment, {}):
            users = self._users.get(folder, set())
            users.discard(environment)
            if not users:
                self._users.pop(folder, None)
                stop = self._stops.pop(folder, None)
                if stop is not None:
                    stop.set()

    def close(self) -> None:
        for stop in self._stops.values():
            stop.set()
        self._stops.clear()

    async def close_when_cancelled(self) -> None:
        """Run beside the watches; when the pool is cancelled, stop them at once: a watch
        cancelled by itself ends only when watchfiles' thread next times out (up to 5 s)."""
        try:
            await anyio.sleep_forever()
        finally:
            self.close()

    async def _watch(self, folder: str, *, task_status: TaskStatus[None]) -> None:
        stop = anyio.Event()
        self._stops[folder] = stop
        # watchfiles holds one thread per watch for as long as it lasts: one more for anyio,
        # so that watches never starve other work of threads.
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens += 1
        changes = folder_changes([folder], stop)
        # Nothing yields between here and watchfiles setting up its watch (on the first
        # iteration, before its thread), so the environment starts with the folder watched.
        task_status.started()
        try:
            async for batch in changes:
                self._changed(folder, batch)
        except (OSError, RuntimeError) as exc:  # the folder went away, or the watch failed
            log.warning("hot reload: no longer watching %s: %s", folder, exc)
        finally:
            if self._stops.get(folder) is stop:
                del self._stops[folder]
            limiter.total_tokens -= 1

    def _changed(self, folder: str, batch: set[tuple[Change, str]]) -> None:
        self._generations[folder] = self._generations.get(folder, 0) + 1
        self.count += 1
        users = len(self._users.get(folder, ()))
        log.info(
            "hot reload: %d change(s) in %s; %d environment(s) retire", len(batch), folder, users
        )
        self._on_reload()


def folder_changes(folders: list[str], stop: anyio.Event) -> AsyncIterator[set[FileChange]]:
    """Bursts of changes under `folders` (debounced) until `stop` is set, leaving out what
    tools write beside code (bus/folders.py); `tarn run --watch` watches with it too."""
    return awatch(
        *folders,
        watch_filter=DefaultFilter(ignore_dirs=sorted(IGNORED_DIRS)),
        step=STEP_MS,
        debounce=DEBOUNCE_MS,
        stop_event=stop,
        ignore_permission_denied=True,
    )
