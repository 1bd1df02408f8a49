"""`tarn lambda`'s commands, one Typer app; `tarn` loads it only when `lambda` is asked for."""

from __future__ import annotations

import typer

from services.cli.lambda_cli import (
    functions,
    history,
    invoke,
    layers,
    logs,
    mappings,
    secrets,
    versions,
)

app = typer.Typer(
    help="Manage and invoke functions on a running stack (start one with `tarn up`).",
    no_args_is_help=True,
)
for group in (functions, invoke, logs, history, layers, versions, mappings):
    app.add_typer(group.commands)
app.add_typer(versions.aliases, name="alias")
app.add_typer(secrets.secrets, name="secrets")
