"""`invoke_local`: one invocation of a handler from a folder, in-process, as `tarn run` runs it
(the pool's environment and Runtime API, the process executor by default); no stack needed."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class LocalResult:
    """What the invocation returned: `payload` (decoded JSON when it is JSON), `raw` bytes,
    `function_error` ("Unhandled" when the function failed) and its whole `log`."""

    payload: Any
    raw: bytes
    function_error: str | None
    log: str
    request_id: str

    @property
    def failed(self) -> bool:
        return self.function_error is not None


def invoke_local(
    handler: str,
    event: object = None,
    *,
    code: str | Path = ".",
    runtime: str | None = None,
    env: Mapping[str, str] | None = None,
    layers: Sequence[str | Path] = (),
    timeout_s: int | None = None,
    memory_mb: int | None = None,
    executor: str = "process",
) -> LocalResult:
    """Run `handler` (module.function in `code`) once with `event` (JSON-encoded; bytes as
    they are). The function's log is also written to stderr, so pytest shows it on failure."""
    from dataclasses import replace

    import anyio

    from bus.settings import Settings
    from services.cli.run import local_function
    from workers.standalone.invoker import run_once

    pairs = [f"{key}={value}" for key, value in (env or {}).items()]
    function = local_function(
        handler,
        runtime,
        Path(code),
        [Path(p) for p in layers],
        pairs,
        timeout_s,
        memory_mb,
        None,
        None,
    )
    function = replace(function, executor=executor)
    payload = event if isinstance(event, bytes) else json.dumps(event or {}).encode()
    echo = io.BytesIO()
    call = partial(run_once, function, Settings.from_env(), payload, echo)
    invoked = _in_thread(call) if _loop_running() else anyio.run(call)
    log = echo.getvalue().decode(errors="replace")
    sys.stderr.write(log)
    outcome = invoked.outcome
    return LocalResult(
        _decoded(outcome.payload),
        outcome.payload,
        outcome.function_error,
        log,
        invoked.request_id,
    )


def _loop_running() -> bool:
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _in_thread(call: Callable[[], Awaitable[T]]) -> T:
    """From an async test: its own event loop, in a thread of its own."""
    from concurrent.futures import ThreadPoolExecutor

    import anyio

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, call).result()


def _decoded(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")
