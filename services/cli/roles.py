"""`tarn serve-api` and `tarn worker ROLE`: one part of the stack per process.

compose.yaml runs each as a service of its own (scaled with `--scale`), and a worker on another
machine joins a stack with them: `tarn worker pool --redis-url redis://HOST:6379/0
--aws-endpoint http://HOST:4567`. Options become the TARN_* variables the process reads, so
either works; `tarn up` starts the same processes as children.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from bus.settings import ENV_PREFIX, Settings, SettingsError

# The roles `python -m workers` runs (workers/runner.py), named as Settings.workers names them.
ROLES = Settings().workers
REDIS_HELP = "Redis the stack shares, e.g. redis://HOST:6379/0 (TARN_REDIS_URL)"
AWS_HELP = "the companion AWS endpoint, e.g. http://HOST:4567 (TARN_AWS_ENDPOINT)"

RedisUrl = Annotated[str | None, typer.Option(metavar="URL", help=REDIS_HELP)]
AwsEndpoint = Annotated[str | None, typer.Option(metavar="URL", help=AWS_HELP)]


def export(**options: object) -> Settings:
    """Put the options given in the environment as TARN_* variables (for this process and
    what it execs) and check the resulting settings; exits with the reason when they are bad."""
    for name, value in options.items():
        if value is not None:
            os.environ[f"{ENV_PREFIX}{name.upper()}"] = str(value)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise SystemExit(f"tarn: {exc}") from None
    if not settings.redis_url:
        raise SystemExit(
            "tarn: no Redis named: pass --redis-url redis://HOST:6379/0 (or set TARN_REDIS_URL); "
            "`tarn up` starts a private one instead"
        )
    return settings


def serve_api(
    host: Annotated[str | None, typer.Option(help="address to bind (TARN_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port to bind (TARN_PORT)")] = None,
    redis_url: RedisUrl = None,
    aws_endpoint: AwsEndpoint = None,
) -> None:
    """Run only the API (port 4566 by default) against a stack's Redis, until SIGTERM."""
    from services.cli.server import main as run_server

    export(host=host, port=port, redis_url=redis_url, aws_endpoint=aws_endpoint)
    run_server()


def worker(
    roles: Annotated[
        list[str], typer.Argument(metavar="ROLE", help=f"one or more of {', '.join(ROLES)}")
    ],
    redis_url: RedisUrl = None,
    aws_endpoint: AwsEndpoint = None,
) -> None:
    """Run a worker process of each ROLE (several: as tasks of one process) against a stack's
    Redis, until SIGTERM; run more (here or on other machines) to scale a role out."""
    for role in roles:
        if role not in ROLES:
            raise typer.BadParameter(f"{role!r} is not a worker role: choose {', '.join(ROLES)}")
    export(redis_url=redis_url, aws_endpoint=aws_endpoint)
    # The same process (its pid names its consumers), now running the roles.
    os.execv(sys.executable, [sys.executable, "-m", "workers", *dict.fromkeys(roles)])


API_EXAMPLE = "Example: tarn serve-api --redis-url redis://localhost:6379/0"
WORKER_EXAMPLE = (
    "Example: tarn worker pool --redis-url redis://10.0.0.5:6379/0 "
    "--aws-endpoint http://10.0.0.5:4567"
)


def register(app: typer.Typer) -> None:
    app.command("serve-api", epilog=API_EXAMPLE)(serve_api)
    app.command(epilog=WORKER_EXAMPLE)(worker)
