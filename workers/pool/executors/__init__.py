"""Executors run runtime environments: local processes now, Docker containers next."""

from __future__ import annotations

from bus.settings import Settings
from workers.pool.executors.base import Executor
from workers.pool.executors.process import ProcessExecutor


def choose_executor(settings: Settings) -> Executor:
    """The executor TARN_EXECUTOR names; `auto` is the process executor until Docker lands."""
    if settings.executor in ("auto", "process"):
        return ProcessExecutor()
    raise SystemExit(f"tarn: TARN_EXECUTOR={settings.executor} is not available yet; use process")
