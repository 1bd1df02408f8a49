"""The API process `tarn up` starts: the endpoint (the API, and the proxy to the companion behind
it) served by Hypercorn on uvloop until SIGINT/SIGTERM: `python -m services.cli.server`."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from hypercorn.asyncio import serve
from hypercorn.config import Config

from bus.settings import Settings, SettingsError
from services.app import create_endpoint


def hypercorn_config(settings: Settings) -> Config:
    config = Config()
    config.bind = [f"{settings.host}:{settings.port}"]
    config.keep_alive_timeout = 75
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    return config


def _quiet_cancellations(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The loop's exception handler, less the CancelledError of each connection Hypercorn
    cancels when it stops with requests still open (an invoke at Ctrl-C): not an error."""
    if isinstance(context.get("exception"), asyncio.CancelledError):
        return
    loop.default_exception_handler(context)


async def serve_api(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(_quiet_cancellations)
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await serve(create_endpoint(settings), hypercorn_config(settings), shutdown_trigger=stop.wait)


def main() -> None:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise SystemExit(f"tarn: {exc}") from None
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s api       %(levelname)s %(message)s"
    )
    # httpx logs every request at INFO: each one forwarded to the companion, each health ping.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        import uvloop

        uvloop.run(serve_api(settings))
    except ImportError:
        asyncio.run(serve_api(settings))


if __name__ == "__main__":
    main()
