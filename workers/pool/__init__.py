"""The warm pool worker: runtime environments serving synchronous invocations."""

from workers.pool.pool import WarmPool

__all__ = ["WarmPool"]
