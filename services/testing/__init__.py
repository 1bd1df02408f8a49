"""Tarn for users' own test suites: a pytest plugin (registered as `tarn` through the `pytest11`
entry point) and `invoke_local`, a one-shot run of a handler from a folder without a stack.

Like the `tarn` command, this package is a composition root: it may import services and workers.
The fixtures live in services.testing.plugin; nothing starts until a test asks for one.
"""

from services.testing.local import LocalResult, invoke_local

__all__ = ["LocalResult", "invoke_local"]
