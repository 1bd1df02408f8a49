"""`tarn lambda history`: a function's recent invocations from the stack's invocation records
(`GET /_tarn/invocations`): when, how triggered, how it ended, how long it took; one
invocation's log with --log."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.markup import escape

from services.cli.lambda_cli.endpoint import DEFAULT_ENDPOINT, Endpoint
from services.cli.lambda_cli.options import EndpointUrl, FunctionName, OutputOption, duration_s
from services.cli.lambda_cli.output import Output, console, print_table

commands = typer.Typer()

COLUMNS = ("Start", "Version", "Trigger", "Outcome", "Duration", "Init", "Memory", "Request id")


EXAMPLE = "Example: tarn lambda history --name my-function --since 1h --outcome error"


@commands.command(epilog=EXAMPLE)
def history(
    name: FunctionName,
    since: Annotated[str, typer.Option(help="how far back: 30s, 10m, 2h, 1d")] = "1h",
    outcome: Annotated[
        str, typer.Option(help="success, error, timeout, throttle or rejected")
    ] = "",
    trigger: Annotated[str, typer.Option(help="api, url, async, async:2, esm:<uuid>")] = "",
    limit: Annotated[int, typer.Option(min=1, max=1000, help="at most this many")] = 50,
    log: Annotated[bool, typer.Option("--log", help="each invocation's log too")] = False,
    endpoint: EndpointUrl = DEFAULT_ENDPOINT,
    output: OutputOption = Output.text,
) -> None:
    """List a function's recent invocations, newest first (JSON lines with --output json)."""
    since_ms = int((time.time() - duration_s(since)) * 1000)
    function = name.split(":")[6] if name.startswith("arn:") else name
    params = {"function": function, "since": str(since_ms), "limit": str(limit)}
    params |= {k: v for k, v in (("outcome", outcome), ("trigger", trigger)) if v}
    found = Endpoint(endpoint).tarn("invocations", **params)
    if found is None:
        console(stderr=True).print(f"{endpoint} serves no invocation records (is it Tarn?)")
        raise typer.Exit(1)
    records = found.get("invocations", [])
    if output is Output.json:
        for record in records:
            print(json.dumps(record), flush=True)
    elif log:
        for record in records:
            _print_with_log(record)
    else:
        print_table(COLUMNS, [_row(record) for record in records])


def _row(record: dict[str, Any]) -> list[str]:
    if record["kind"] == "AsyncEventSettled":
        where = ", ".join(kind for kind, _ in record["destinations"]) or "dropped"
        cells = [
            _time(record["at_ms"]),
            record["qualifier"],
            "async (end)",
            f"{record['condition']} -> {where}",
            f"{record['attempts']} attempts",
            "",
            "",
            record["request_id"],
        ]
        return [escape(cell) for cell in cells]
    outcome = record["outcome"] + (f" ({record['error_type']})" if record["error_type"] else "")
    cells = [
        _time(record["start_ms"]),
        record["version"] + (f" ({record['qualifier']})" if record["qualifier"] else ""),
        record["trigger"],
        outcome,
        f"{record['duration_ms']:.2f} ms",
        f"{record['init_ms']:.2f} ms" if record["init_ms"] is not None else "",
        f"{record['max_memory_mb']}/{record['memory_mb']} MB",
        record["request_id"],
    ]
    return [escape(cell) for cell in cells]


def _print_with_log(record: dict[str, Any]) -> None:
    out = console()
    out.print(" ".join(_row(record)), highlight=False)
    if record["kind"] == "InvocationRecord":
        out.print(record["log"].rstrip("\n"), markup=False, highlight=False, soft_wrap=True)
        out.print()


def _time(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000).strftime("%H:%M:%S.%f")[:-3]
