"""Executors run runtime environments: local processes or Docker containers.

A pool holds one of each it needs: every function version names its own (`executor` on the
record, chosen when it was provisioned), else the one TARN_EXECUTOR names.
"""

from __future__ import annotations

from typing import Literal, assert_never

from bus.records import FunctionVersion
from bus.settings import Settings
from workers.pool.executors.base import Executor

# ProcessExecutor is imported where used: its module imports the interpreters, which import this
# package's base, so importing it here made `workers.pool.interpreters` unimportable on its own.

ExecutorName = Literal["process", "docker"]
NAMES: dict[str, ExecutorName] = {"process": "process", "docker": "docker"}


def default_executor(settings: Settings) -> ExecutorName:
    """What runs a version that names no executor of its own: the one TARN_EXECUTOR names.

    `tarn up` resolves `auto` itself (`process` when no Docker engine answers, else `auto`,
    which the function manager turns into Docker or process per version); a worker started
    on its own with `auto` runs such versions as processes.
    """
    match settings.executor:
        case "auto" | "process":
            return "process"
        case "docker":
            return "docker"
        case _:  # Settings only takes the three
            assert_never(settings.executor)


def make_executor(
    name: ExecutorName, settings: Settings, *, reap_orphans: bool = False
) -> Executor:
    """`reap_orphans` (the pool worker's own process only) makes this process adopt and end
    what functions leave behind."""
    from workers.pool.executors.process import ProcessExecutor

    if name == "process":
        return ProcessExecutor(settings.local_runtimes_dir, reap_orphans=reap_orphans)
    from workers.pool.executors.docker import DockerExecutor  # aiodocker only when used

    try:
        return DockerExecutor(settings)
    except ValueError as exc:  # a malformed TARN_IMAGE_OVERRIDES or TARN_DOCKER_NETWORK
        raise SystemExit(f"tarn: {exc}") from None


class Executors:
    """The pool's executors: the default one, and the other when a version names it."""

    def __init__(
        self, settings: Settings, default: Executor | None = None, *, reap_orphans: bool = False
    ) -> None:
        self.settings = settings
        self.reap_orphans = reap_orphans
        self.default = default or make_executor(
            default_executor(settings), settings, reap_orphans=reap_orphans
        )
        from workers.pool.executors.process import ProcessExecutor

        name: ExecutorName = "process" if isinstance(self.default, ProcessExecutor) else "docker"
        self._made: dict[ExecutorName, Executor] = {name: self.default}

    def of(self, function: FunctionVersion) -> Executor:
        name = NAMES.get(function.executor or "")
        if name is None:
            return self.default
        if name not in self._made:
            self._made[name] = make_executor(name, self.settings, reap_orphans=self.reap_orphans)
        return self._made[name]

    async def aclose(self) -> None:
        for executor in self._made.values():
            await executor.aclose()
