"""`tarn lambda invoke`: the result on stdout, the function's log on stderr (as docker-lambda
prints them), a non-zero exit code when the function fails."""

from __future__ import annotations

import base64
import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from services.cli.lambda_cli.endpoint import DEFAULT_ENDPOINT, Endpoint
from services.cli.lambda_cli.failures import CommandFailed
from services.cli.lambda_cli.logs import invocation_log
from services.cli.lambda_cli.options import EndpointUrl, FunctionName, OutputOption, Qualifier
from services.cli.lambda_cli.output import Output, console, note, print_json, readable

commands = typer.Typer()

# LogType=Tail returns at most the log's last 4 KB; a full tail may have lost its start.
TAIL_BYTES = 4096
STDIN = "-"


@commands.command(
    epilog='Example: tarn lambda invoke --name my-function --payload \'{"hello":"world"}\''
    "   |   echo '{\"a\": 1}' | tarn lambda invoke --name my-function -"
)
def invoke(
    name: FunctionName,
    stdin: Annotated[
        str | None,
        typer.Argument(metavar="[-]", help="read the payload from stdin", show_default=False),
    ] = None,
    payload: Annotated[str | None, typer.Option(help="the event, as JSON")] = None,
    payload_file: Annotated[
        str | None, typer.Option(help="a file holding the event; - for stdin")
    ] = None,
    qualifier: Qualifier = None,
    asynchronous: Annotated[
        bool, typer.Option("--async", help="an Event invoke: queue it and return at once")
    ] = False,
    tail: Annotated[
        bool, typer.Option("--tail", help="only the log's last 4 KB, as Invoke returns it")
    ] = False,
    endpoint: EndpointUrl = DEFAULT_ENDPOINT,
    output: OutputOption = Output.text,
) -> None:
    """Invoke a function with a JSON event."""
    event = event_bytes(stdin, payload, payload_file)
    stack = Endpoint(endpoint)
    request: dict[str, Any] = {"FunctionName": name, "Payload": event}
    if qualifier:
        request["Qualifier"] = qualifier
    if asynchronous:
        response = stack.client("lambda").invoke(InvocationType="Event", **request)
        queued = {"StatusCode": response["StatusCode"], "RequestId": request_id(response)}
        print_json(queued) if output is Output.json else note(f"queued {request_id(response)}")
        return
    started_ms = int(time.time() * 1000)
    response = stack.client("lambda").invoke(LogType="Tail", **request)
    log = base64.b64decode(response.get("LogResult", "")).decode(errors="replace")
    if len(log.encode()) >= TAIL_BYTES and not tail:
        log = invocation_log(stack.client("logs"), name, request_id(response), started_ms) or log
    result = response["Payload"].read().decode(errors="replace")
    show(response, result, log, output)
    if "FunctionError" in response:
        raise typer.Exit(1)


def event_bytes(stdin: str | None, payload: str | None, payload_file: str | None) -> bytes:
    if stdin not in (None, STDIN):
        raise CommandFailed(f"unexpected argument {stdin!r}: only - (stdin) may follow")
    given = [x for x in (stdin, payload, payload_file) if x is not None]
    if len(given) > 1:
        raise CommandFailed("give one payload: --payload, --payload-file or -")
    if payload is not None:
        return payload.encode()
    if stdin == STDIN or payload_file == STDIN:
        return sys.stdin.buffer.read()
    if payload_file is not None:
        path = Path(payload_file)
        if not path.is_file():
            raise CommandFailed(f"{payload_file}: no such file")
        return path.read_bytes()
    return b"{}"


def request_id(response: dict[str, Any]) -> str:
    return str(response["ResponseMetadata"]["RequestId"])


def show(response: dict[str, Any], result: str, log: str, output: Output) -> None:
    if output is Output.json:
        print_json(
            {
                "StatusCode": response["StatusCode"],
                "FunctionError": response.get("FunctionError"),
                "ExecutedVersion": response.get("ExecutedVersion"),
                "RequestId": request_id(response),
                "Payload": parsed(result),
                "Log": log,
            }
        )
        return
    err = console(stderr=True)
    err.print(readable(log), style="dim", markup=False, highlight=False)
    print(result, flush=True)


def parsed(result: str) -> object:
    try:
        return json.loads(result)
    except ValueError:
        return result
