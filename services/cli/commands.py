"""The `tarn` command: `tarn up` runs the whole stack with embedded defaults, `tarn lambda ...`
is a client of a running stack (services/cli/lambda_cli/)."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from services.cli import build as build_cli
from services.cli import roles
from services.cli import run as run_cli
from services.cli.lambda_cli.failures import run_reporting_failures

LAMBDA = "lambda"


class TarnGroup(TyperGroup):
    """`tarn`'s commands, with `tarn lambda` (rich, botocore, every client command) loaded
    only when it is asked for or listed: `tarn up` starts without it. (Click's types go
    untyped here: Typer 0.12 uses click's, later ones a copy of their own.)"""

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted({*super().list_commands(ctx), LAMBDA})

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name != LAMBDA:
            return super().get_command(ctx, cmd_name)
        from services.cli.lambda_cli.app import app as lambda_app

        group = typer.main.get_group(lambda_app)
        group.name = LAMBDA
        return group


app = typer.Typer(
    name="tarn",
    help="AWS Lambda on your own machine.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=TarnGroup,
)
app.command(name="run", epilog=run_cli.EXAMPLE, no_args_is_help=False)(run_cli.run)
app.command(name="build", epilog=build_cli.EXAMPLE)(build_cli.build)
roles.register(app)  # tarn serve-api, tarn worker ROLE


class Executor(StrEnum):
    auto = "auto"
    process = "process"
    docker = "docker"


@app.command(epilog="Example: tarn up --port 4566 --executor process")
def up(
    host: Annotated[
        str | None, typer.Option(help="address the API binds (default 127.0.0.1)")
    ] = None,
    port: Annotated[int | None, typer.Option(help="API port (default 4566)")] = None,
    data_dir: Annotated[
        str | None, typer.Option(help="where Redis data and unpacked code live")
    ] = None,
    redis_url: Annotated[
        str | None, typer.Option(help="use this Redis instead of starting a private one")
    ] = None,
    executor: Annotated[
        Executor | None, typer.Option(help="how functions run (default auto)")
    ] = None,
    aws_endpoint: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="AWS-compatible endpoint for the other services (default: start a moto server)",
        ),
    ] = None,
    scale: Annotated[
        str | None, typer.Option(metavar="ROLE=N,...", help="processes per worker role: pool=2")
    ] = None,
) -> None:
    """Run the stack until Ctrl-C. Every option is also a TARN_* variable (TARN_PORT=4600)."""
    from bus.settings import Settings, SettingsError
    from services.cli.supervisor import Supervisor

    try:
        settings = Settings.from_env(
            None,
            host=host,
            port=port,
            data_dir=data_dir,
            redis_url=redis_url,
            executor=executor.value if executor else None,
            aws_endpoint=aws_endpoint,
            scale=scale,
        )
    except SettingsError as exc:
        raise SystemExit(f"tarn: {exc}") from None
    # `auto` becomes docker or process once the supervisor has asked for a Docker engine.
    sys.exit(Supervisor(settings).run())


@app.command(epilog="Example: TARN_PORT=4566 tarn companion --port 4567")
def companion(
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to bind")] = 5000,
) -> None:
    """Run only the companion AWS endpoint `tarn up` starts: moto's server with Tarn's hooks.
    Lambda (requests, CloudFormation, triggers) goes to the Tarn the TARN_* variables name."""
    from services.companion.__main__ import main as run_companion

    run_companion(["-H", host, "-p", str(port)])


def main(argv: list[str] | None = None) -> None:
    run_reporting_failures(lambda: app(args=argv, prog_name="tarn"))
