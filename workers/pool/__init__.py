"""The warm pool worker: runtime environments serving synchronous invocations."""

from __future__ import annotations

from typing import TYPE_CHECKING

# Loaded first: interpreters and the process executor import each other, in this order only.
import workers.pool.executors  # noqa: F401

if TYPE_CHECKING:
    from workers.pool.pool import WarmPool

__all__ = ["WarmPool"]


def __getattr__(name: str) -> object:
    # Imported on first use, so that the environments alone (`tarn run`) load without Redis.
    if name == "WarmPool":
        from workers.pool.pool import WarmPool

        return WarmPool
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
