"""`tarn run`: one function from a folder, without a stack (docker-lambda's workflows).

One-shot: the result on stdout, the function's log on stderr, exit 1 on a function error (its
error JSON on stdout). `--stay-open`: the Invoke API for that function on 127.0.0.1:9001,
warm between calls; `--watch` retires the warm environment when the code or a layer changes.
docker-lambda's variables work as they do there (each option names its variable).
The engine lives in workers/standalone; this module only reads options. Imports stay lazy:
a one-shot run is meant to take well under a second.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from bus.settings import Settings
    from workers.standalone.functions import LocalFunction

STDIN = "-"
# docker-lambda's Invoke API port (DOCKER_LAMBDA_API_PORT).
DEFAULT_PORT = 9001


class RunExecutor(StrEnum):
    process = "process"
    docker = "docker"


EXAMPLE = (
    'Example: tarn run app.handler \'{"some":"event"}\'   |   '
    "echo '{}' | tarn run app.handler -   |   tarn run --stay-open --watch app.handler"
)


def run(
    handler: Annotated[
        str | None,
        typer.Argument(
            envvar=["AWS_LAMBDA_FUNCTION_HANDLER", "_HANDLER"],
            metavar="HANDLER",
            help="module.function (default: docker-lambda's for the runtime)",
            show_default=False,
        ),
    ] = None,
    event: Annotated[
        str | None,
        typer.Argument(
            envvar="AWS_LAMBDA_EVENT_BODY",
            metavar="EVENT | FILE | -",
            help="the event as JSON, a file holding it, or - for stdin (default {})",
            show_default=False,
        ),
    ] = None,
    runtime: Annotated[
        str | None, typer.Option(help="e.g. python3.12 (default: from the handler's file)")
    ] = None,
    code: Annotated[Path, typer.Option(help="the function's folder")] = Path("."),
    layer: Annotated[
        list[Path] | None, typer.Option(help="a layer's folder (its /opt); repeat, in order")
    ] = None,
    env: Annotated[list[str] | None, typer.Option(help="KEY=VALUE for the function")] = None,
    timeout: Annotated[
        int | None, typer.Option(envvar="AWS_LAMBDA_FUNCTION_TIMEOUT", help="seconds [300]")
    ] = None,
    memory: Annotated[
        int | None, typer.Option(envvar="AWS_LAMBDA_FUNCTION_MEMORY_SIZE", help="MB [1536]")
    ] = None,
    name: Annotated[
        str | None, typer.Option(envvar="AWS_LAMBDA_FUNCTION_NAME", help="function name [test]")
    ] = None,
    function_version: Annotated[
        str | None, typer.Option(envvar="AWS_LAMBDA_FUNCTION_VERSION", help="[$LATEST]")
    ] = None,
    executor: Annotated[RunExecutor, typer.Option(help="how the function runs")] = (
        RunExecutor.process
    ),
    use_stdin: Annotated[
        bool, typer.Option("--stdin", envvar="DOCKER_LAMBDA_USE_STDIN", help="event from stdin")
    ] = False,
    stay_open: Annotated[
        bool,
        typer.Option(
            "--stay-open",
            envvar="DOCKER_LAMBDA_STAY_OPEN",
            help="serve the Invoke API until Ctrl-C",
        ),
    ] = False,
    port: Annotated[
        int, typer.Option(envvar="DOCKER_LAMBDA_API_PORT", help="the Invoke API's port")
    ] = DEFAULT_PORT,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch", envvar="DOCKER_LAMBDA_WATCH", help="reload on changes (implies --stay-open)"
        ),
    ] = False,
) -> None:
    """Run a function from a folder without a stack: once, or as a stay-open Invoke API."""
    from workers.standalone.functions import ConfigurationError

    try:
        function = local_function(
            handler, runtime, code, layer or [], env or [], timeout, memory, name, function_version
        )
        function = _with_executor(function, executor)
    except ConfigurationError as exc:
        raise SystemExit(f"tarn: {exc}") from None
    if stay_open or watch:
        serve(function, port, watch)
        return
    payload = event_payload(event, use_stdin)
    raise typer.Exit(run_once(function, payload))


def local_function(
    handler: str | None,
    runtime: str | None,
    code: Path,
    layers: list[Path],
    env: list[str],
    timeout: int | None,
    memory: int | None,
    name: str | None,
    version: str | None,
) -> LocalFunction:
    """The function the options describe; ConfigurationError if they do not."""
    from workers.standalone import functions

    if not code.is_dir():
        raise functions.ConfigurationError(f"--code {code}: not a folder")
    for folder in layers:
        if not folder.is_dir():
            raise functions.ConfigurationError(f"--layer {folder}: not a folder")
    handler = handler or functions.default_handler(code, runtime)
    return functions.LocalFunction(
        code=code,
        handler=handler,
        runtime=runtime or functions.guess_runtime(code, handler),
        layers=tuple(layers),
        environment=functions.parse_variables(env),
        timeout_s=timeout or functions.DEFAULT_TIMEOUT_S,
        memory_mb=memory or functions.DEFAULT_MEMORY_MB,
        name=name or functions.DEFAULT_NAME,
        version=version or functions.DEFAULT_VERSION,
    )


def _with_executor(function: LocalFunction, executor: RunExecutor) -> LocalFunction:
    from dataclasses import replace

    return replace(function, executor=executor.value)


def event_payload(event: str | None, use_stdin: bool) -> bytes:
    """The event: `-` (or DOCKER_LAMBDA_USE_STDIN) reads stdin; an argument that is not JSON
    but names a file, that file; else the argument itself; nothing (or only spaces): `{}`."""
    if event == STDIN or (event is None and use_stdin):
        payload = sys.stdin.buffer.read()
    elif event is None:
        payload = b""
    elif not event.lstrip().startswith(("{", "[", '"')) and Path(event).is_file():
        payload = Path(event).read_bytes()
    else:
        payload = event.encode()
    return payload if payload.strip() else b"{}"  # no event is `{}`, as Invoke makes it


def run_once(function: LocalFunction, payload: bytes) -> int:
    """One invocation: the result (or error JSON) on stdout; the exit code."""
    import anyio

    from workers.standalone.invoker import UnsupportedFunction, run_once

    settings = _settings()
    try:
        invoked = anyio.run(run_once, function, settings, payload)
    except UnsupportedFunction as exc:
        raise SystemExit(f"tarn: {exc}") from None
    outcome = invoked.outcome
    sys.stdout.buffer.write(outcome.payload + b"\n")
    sys.stdout.flush()
    return 1 if outcome.function_error else 0


def serve(function: LocalFunction, port: int, watch: bool) -> None:
    """The stay-open Invoke API until Ctrl-C."""
    import anyio

    from workers.standalone.invoke_api import serve_function
    from workers.standalone.invoker import UnsupportedFunction

    settings = _settings()
    try:
        anyio.run(serve_function, function, settings, port, watch)
    except KeyboardInterrupt:
        pass
    except UnsupportedFunction as exc:
        raise SystemExit(f"tarn: {exc}") from None
    except OSError as exc:  # the port is taken, most likely
        raise SystemExit(f"tarn: cannot serve on 127.0.0.1:{port}: {exc}") from None


def _settings() -> Settings:
    from bus.settings import Settings, SettingsError

    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise SystemExit(f"tarn: {exc}") from None
