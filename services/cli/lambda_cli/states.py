"""Waiting for a function to settle after create or update, with a status line on a terminal:
State Pending -> Active (or Failed), LastUpdateStatus InProgress -> Successful (or Failed)."""

from __future__ import annotations

import time
from contextlib import nullcontext
from typing import Any

from services.cli.lambda_cli.output import console

POLL_S = 0.2
# Image pulls can take minutes; AWS's own waiters give up after about five.
SETTLE_TIMEOUT_S = 600


def settled(client: Any, name: str, *, status_line: bool) -> dict[str, Any]:
    """The function's configuration once neither its state nor its last update is pending."""
    err = console(stderr=True)
    started = time.monotonic()
    status = err.status(f"{name}: starting") if status_line and err.is_terminal else None
    with status or nullcontext():
        while True:
            config: dict[str, Any] = client.get_function_configuration(FunctionName=name)
            if not pending(config):
                return config
            if time.monotonic() - started > SETTLE_TIMEOUT_S:
                return config
            if status is not None:
                status.update(progress_line(config, time.monotonic() - started))
            time.sleep(POLL_S)


def pending(config: dict[str, Any]) -> bool:
    return config.get("State") == "Pending" or config.get("LastUpdateStatus") == "InProgress"


def progress_line(config: dict[str, Any], elapsed_s: float) -> str:
    reason = config.get("StateReason") or config.get("LastUpdateStatusReason") or ""
    state = config.get("State", "")
    if config.get("LastUpdateStatus") == "InProgress":
        state = "updating"
    return f"{config['FunctionName']}: {state} {reason} [dim]{elapsed_s:.1f} s[/]"


def failure(config: dict[str, Any]) -> str | None:
    """Why the function cannot run, or None when it is ready."""
    if config.get("State") == "Failed":
        return f"{config['FunctionName']} failed: {config.get('StateReason')}"
    if config.get("LastUpdateStatus") == "Failed":
        return f"{config['FunctionName']} update failed: {config.get('LastUpdateStatusReason')}"
    if pending(config):
        return f"{config['FunctionName']} is still {config.get('State')} after {SETTLE_TIMEOUT_S} s"
    return None
