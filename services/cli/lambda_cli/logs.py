"""`tarn lambda logs`: a function's lines in CloudWatch Logs (`/aws/lambda/<name>` on the
stack's companion), live with --follow; also what AWS CLI v1, without `aws logs tail`, lacks."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

import typer

from services.cli.lambda_cli.endpoint import DEFAULT_ENDPOINT, Endpoint
from services.cli.lambda_cli.options import EndpointUrl, FunctionName, OutputOption, duration_s
from services.cli.lambda_cli.output import Output, console, readable

commands = typer.Typer()

FOLLOW_POLL_S = 0.5
# How long `invoke` waits for an invocation's REPORT line to reach CloudWatch Logs.
REPORT_WAIT_S = 5


@commands.command(epilog="Example: tarn lambda logs --name my-function --follow --since 10m")
def logs(
    name: FunctionName,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing new lines")] = False,
    since: Annotated[str, typer.Option(help="how far back to start: 30s, 10m, 2h, 1d")] = "10m",
    endpoint: EndpointUrl = DEFAULT_ENDPOINT,
    output: OutputOption = Output.text,
) -> None:
    """Print a function's log lines (JSON lines with --output json)."""
    client = Endpoint(endpoint).client("logs")
    start_ms = int((time.time() - duration_s(since)) * 1000)
    seen: set[str] = set()
    while True:
        for event in events(client, group(name), start_ms):
            if event["eventId"] not in seen:
                seen.add(event["eventId"])
                start_ms = max(start_ms, event["timestamp"])
                show(event, output)
        if not follow:
            return
        time.sleep(FOLLOW_POLL_S)


def group(name: str) -> str:
    return f"/aws/lambda/{name.split(':')[-1] if name.startswith('arn:') else name}"


def events(client: Any, log_group: str, start_ms: int) -> Iterator[dict[str, Any]]:
    """FilterLogEvents from `start_ms` on, oldest first; nothing while the group is missing."""
    try:
        pages = client.get_paginator("filter_log_events").paginate(
            logGroupName=log_group, startTime=start_ms
        )
        found = [event for page in pages for event in page.get("events", [])]
    except client.exceptions.ResourceNotFoundException:
        return iter(())
    return iter(sorted(found, key=lambda e: (e["timestamp"], e.get("ingestionTime", 0))))


def show(event: dict[str, Any], output: Output) -> None:
    if output is Output.json:
        fields = ("timestamp", "logStreamName", "message")
        print(json.dumps({k: event.get(k) for k in fields}), flush=True)
        return
    stamp = datetime.fromtimestamp(event["timestamp"] / 1000).strftime("%H:%M:%S.%f")[:-3]
    out = console()
    out.print(f"[dim]{stamp}[/] ", end="", highlight=False)
    out.print(readable(event["message"]), markup=False, highlight=False, soft_wrap=True)


def invocation_log(client: Any, name: str, request_id: str, start_ms: int) -> str | None:
    """One invocation's whole log, START to REPORT, once it has reached CloudWatch Logs."""
    deadline = time.monotonic() + REPORT_WAIT_S
    while time.monotonic() < deadline:
        found = list(events(client, group(name), start_ms))
        stream = next(
            (
                e["logStreamName"]
                for e in found
                if e["message"].startswith(f"REPORT RequestId: {request_id}")
            ),
            None,
        )
        if stream is not None:
            return between(found, stream, request_id)
        time.sleep(FOLLOW_POLL_S)
    return None


def between(found: list[dict[str, Any]], stream: str, request_id: str) -> str:
    lines, inside = [], False
    for event in (e for e in found if e["logStreamName"] == stream):
        inside = inside or event["message"].startswith(f"START RequestId: {request_id}")
        if inside:
            lines.append(event["message"].rstrip("\n"))
        if event["message"].startswith(f"REPORT RequestId: {request_id}"):
            break
    return "\n".join(lines) + "\n"
