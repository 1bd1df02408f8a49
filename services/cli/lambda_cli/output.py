"""What `tarn lambda` prints: Rich tables and fields for people (colours on a terminal only),
JSON on stdout for scripts (`--output json`)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

# Off a terminal Rich would fold lines at 80 columns; piped output keeps whole lines.
PIPE_WIDTH = 4096


class Output(StrEnum):
    text = "text"
    json = "json"


def console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, width=None if stream.isatty() else PIPE_WIDTH)


def without_metadata(response: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def print_json(data: object) -> None:
    text = json.dumps(data, indent=2, default=str)
    out = console()
    if out.is_terminal:
        out.print_json(text)
    else:
        print(text, flush=True)


def print_fields(fields: Iterable[tuple[str, object]]) -> None:
    """`key  value` lines, for one resource; empty values are left out."""
    shown = [(key, str(value)) for key, value in fields if value not in (None, "", [], {})]
    width = max((len(key) for key, _ in shown), default=0)
    out = console()
    for key, value in shown:
        out.print(f"[bold cyan]{key:<{width}}[/]  {escape(value)}", highlight=False, soft_wrap=True)


def print_table(columns: Iterable[str], rows: Iterable[Iterable[object]]) -> None:
    table = Table(*columns, box=None, header_style="bold", pad_edge=False)
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    console().print(table)


def note(message: str) -> None:
    """A line for people on stderr, so stdout stays the command's result."""
    console(stderr=True).print(message, highlight=False)


def readable(log: str) -> str:
    """A log for a terminal: runtimes send a multi-line record (a traceback) as one CloudWatch
    event with its lines joined by carriage returns."""
    return log.replace("\r", "\n").rstrip("\n")
