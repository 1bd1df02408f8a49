"""Every hook the companion installs on moto, in one place: what each replaces is listed in
`hooked()`, which the tests check against the installed moto (a moto upgrade that renames or
reshapes one of them fails there, not silently at run time).

CloudFormation's hooks wait for CloudFormation's first use: importing moto's CloudFormation
loads every moto backend (about 150 MB and a second of start-up), which a stack that never
deploys a template need not pay.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import moto.backends

from services.companion import gateway, lambda_backend, log_cap, metric_queries
from services.companion.triggers import deliveries, scheduler

Hooked = list[tuple[object, str, tuple[str, ...]]]
CLOUDFORMATION = "cloudformation"


def hooked() -> Hooked:
    """(owner, attribute, the parameters the hook relies on) of every hook."""
    from services.companion.cloudformation import change_sets, models, operations, rollbacks, sam

    return [
        (*gateway.HOOKED, ("self", "environ", "start_response")),
        *deliveries.HOOKED,
        *models.HOOKED,
        *rollbacks.HOOKED,
        *operations.HOOKED,
        *change_sets.HOOKED,
        *sam.HOOKED,
        *scheduler.HOOKED,
        *lambda_backend.HOOKED,
        *metric_queries.HOOKED,
        *log_cap.HOOKED,
        (moto.backends, "get_backend", ("name",)),
    ]


def install(on_change: Callable[[bool], None]) -> None:
    gateway.install(on_change)
    deliveries.install()
    scheduler.install()
    lambda_backend.install()
    metric_queries.install()
    log_cap.install()
    _install_cloudformation_on_first_use(on_change)


def install_cloudformation(on_change: Callable[[bool], None]) -> None:
    """CloudFormation's hooks (models served by Tarn, background operations, rollbacks,
    change sets, SAM); once, however many threads of moto's server ask at once."""
    with _CLOUDFORMATION_LOCK:
        if _CLOUDFORMATION_INSTALLED.is_set():
            return
        from services.companion.cloudformation import (
            change_sets,
            models,
            operations,
            rollbacks,
            sam,
        )

        models.install()
        rollbacks.install()
        operations.install(on_change)
        change_sets.install()
        sam.install()
        _CLOUDFORMATION_INSTALLED.set()


_CLOUDFORMATION_LOCK = threading.Lock()
_CLOUDFORMATION_INSTALLED = threading.Event()


def _install_cloudformation_on_first_use(on_change: Callable[[bool], None]) -> None:
    """moto's dispatcher asks `moto.backends.get_backend` for a request's backend."""
    get_backend = moto.backends.get_backend

    def get_backend_hooked(name: str) -> object:
        if name == CLOUDFORMATION and not _CLOUDFORMATION_INSTALLED.is_set():
            install_cloudformation(on_change)
        return get_backend(name)  # type: ignore[call-overload]

    moto.backends.get_backend = get_backend_hooked  # type: ignore[assignment]
