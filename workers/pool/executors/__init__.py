"""Executors run runtime environments: local processes or Docker containers."""

from __future__ import annotations

from typing import assert_never

from bus.settings import Settings
from workers.pool.executors.base import Executor
from workers.pool.executors.process import ProcessExecutor


def choose_executor(settings: Settings, *, reap_orphans: bool = False) -> Executor:
    """The executor TARN_EXECUTOR names; `reap_orphans` (the pool worker's own process only)
    makes this process adopt and end what functions leave behind.

    `tarn up` resolves `auto` itself (Docker when an engine answers) and passes the choice
    down; a worker started on its own with `auto` runs the process executor.
    """
    match settings.executor:
        case "auto" | "process":
            return ProcessExecutor(settings.local_runtimes_dir, reap_orphans=reap_orphans)
        case "docker":
            from workers.pool.executors.docker import DockerExecutor  # aiodocker only when used

            try:
                return DockerExecutor(settings)
            except ValueError as exc:  # a malformed TARN_IMAGE_OVERRIDES or TARN_DOCKER_NETWORK
                raise SystemExit(f"tarn: {exc}") from None
        case _:  # Settings only takes the three
            assert_never(settings.executor)
