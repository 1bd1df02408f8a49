"""The warm pool worker: runtime environments serving synchronous invocations."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workers.pool.pool import WarmPool

__all__ = ["WarmPool"]


def __getattr__(name: str) -> object:
    # Imported on first use, so that the environments alone (`tarn run`) load without Redis.
    if name == "WarmPool":
        from workers.pool.pool import WarmPool

        return WarmPool
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
