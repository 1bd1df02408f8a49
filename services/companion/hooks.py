"""Every hook the companion installs on moto, in one place: what each replaces is listed in
`HOOKED`, which the tests check against the installed moto (a moto upgrade that renames or
reshapes one of them fails there, not silently at run time)."""

from __future__ import annotations

from collections.abc import Callable

from services.companion import gateway, lambda_backend, log_cap, metric_queries
from services.companion.cloudformation import change_sets, operations, rollbacks, sam
from services.companion.cloudformation import models as cloudformation
from services.companion.triggers import deliveries as triggers
from services.companion.triggers import scheduler

# (owner, attribute, the parameters the hook relies on)
HOOKED: list[tuple[object, str, tuple[str, ...]]] = [
    (*gateway.HOOKED, ("self", "environ", "start_response")),
    *triggers.HOOKED,
    *cloudformation.HOOKED,
    *rollbacks.HOOKED,
    *operations.HOOKED,
    *change_sets.HOOKED,
    *sam.HOOKED,
    *scheduler.HOOKED,
    *lambda_backend.HOOKED,
    *metric_queries.HOOKED,
    *log_cap.HOOKED,
]


def install(on_change: Callable[[bool], None]) -> None:
    gateway.install(on_change)
    triggers.install()
    cloudformation.install()
    rollbacks.install()
    operations.install(on_change)
    change_sets.install()
    sam.install()
    scheduler.install()
    lambda_backend.install()
    metric_queries.install()
    log_cap.install()
