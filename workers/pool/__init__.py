"""The warm pool worker: runtime environments serving synchronous invocations.

`WarmPool` is imported on first use, so a process that needs only a part of the package (the
functions worker: executors, interpreters; `tarn run`: the environments) does not load the
whole pool with Redis and its HTTP client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workers.pool.pool import WarmPool

__all__ = ["WarmPool"]


def __getattr__(name: str) -> Any:
    if name == "WarmPool":
        from workers.pool.pool import WarmPool

        return WarmPool
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
