"""Every hook the companion installs on moto, in one place: what each replaces is listed in
`HOOKED`, which the tests check against the installed moto (a moto upgrade that renames or
reshapes one of them fails there, not silently at run time)."""

from __future__ import annotations

from collections.abc import Callable

from services.companion import cloudformation, gateway, lambda_backend, log_cap, triggers

# (owner, attribute, the parameters the hook relies on)
HOOKED: list[tuple[object, str, tuple[str, ...]]] = [
    (*gateway.HOOKED, ("self", "environ", "start_response")),
    *triggers.HOOKED,
    *cloudformation.HOOKED,
    *lambda_backend.HOOKED,
    *log_cap.HOOKED,
]


def install(on_change: Callable[[bool], None]) -> None:
    gateway.install(on_change)
    triggers.install()
    cloudformation.install()
    lambda_backend.install()
    log_cap.install()
