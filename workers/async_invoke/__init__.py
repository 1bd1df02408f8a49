"""The async invoker: Event invocations run at least once, with AWS's retries, event ages,
destinations and dead-letter queues (worker.py), in per-version slots (slots.py), their
outcomes sent on by destinations.py."""

from workers.async_invoke.worker import AsyncInvoker

__all__ = ["AsyncInvoker"]
