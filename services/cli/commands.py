"""The `tarn` command's arguments: `tarn up` runs the whole stack with embedded defaults."""

from __future__ import annotations

import argparse
import sys

from bus.settings import Settings, SettingsError
from services.cli.supervisor import Supervisor

EXECUTORS = ("auto", "process", "docker")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="tarn", description="AWS Lambda on your own machine.")
    commands = root.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="run the stack until Ctrl-C")
    up.add_argument("--host", help="address the API binds (default 127.0.0.1)")
    up.add_argument("--port", type=int, help="API port (default 4566)")
    up.add_argument("--data-dir", help="where Redis data and unpacked code live")
    up.add_argument("--redis-url", help="use this Redis instead of starting a private one")
    up.add_argument("--executor", choices=EXECUTORS, help="how functions run (default auto)")
    up.add_argument(
        "--aws-endpoint",
        metavar="URL",
        help="AWS-compatible endpoint for the other services (default: start a moto server)",
    )
    return root


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env(
            host=args.host,
            port=args.port,
            data_dir=args.data_dir,
            redis_url=args.redis_url,
            executor=args.executor,
            aws_endpoint=args.aws_endpoint,
        )
    except SettingsError as exc:
        raise SystemExit(f"tarn: {exc}") from None
    # `auto` becomes docker or process once the supervisor has asked for a Docker engine.
    sys.exit(Supervisor(settings).run())
