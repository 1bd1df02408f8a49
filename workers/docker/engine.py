"""The Docker engine as Tarn uses it: a client, labels on what Tarn starts, and leftovers removed.

`python -m workers.docker.engine` is how `tarn up` asks whether an engine answers and
removes its stack's leftover containers (at start and at stop) without importing the workers.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import socket
import sys
from pathlib import Path

import aiodocker
import aiohttp

from bus.settings import Settings, SettingsError

# Every container Tarn starts carries these; only containers labelled with a stack's id are
# ever removed as that stack's leftovers.
STACK_LABEL = "tarn.stack"
WORKER_LABEL = "tarn.worker"
FUNCTION_LABEL = "tarn.function"
VERSION_LABEL = "tarn.version"

LOCAL_SOCKETS = (
    Path("/run/docker.sock"),
    Path("/var/run/docker.sock"),
    Path.home() / ".docker/run/docker.sock",
)
PING_TIMEOUT_S = 5.0
# Exit status of this module when no engine answers (as opposed to a crash of the check).
NO_ENGINE = 3


class EngineUnavailable(Exception):
    """No Docker engine answers; the message says where Tarn looked and what to do."""


def engine_address() -> str | None:
    """Where the engine should be: DOCKER_HOST, or the first local socket that exists."""
    host = os.environ.get("DOCKER_HOST")
    if host:
        return host
    return next((f"unix://{p}" for p in LOCAL_SOCKETS if p.is_socket()), None)


def open_engine() -> aiodocker.Docker:
    """A client for the engine, without aiohttp's cap of 100 connections per connector.

    Each live environment holds a connection open (its output stream), so the default cap
    would stall the pool at a hundred environments.
    """
    address = engine_address()
    if address is None:
        raise EngineUnavailable(
            "no Docker engine found: no DOCKER_HOST and no socket at "
            + ", ".join(str(p) for p in LOCAL_SOCKETS)
        )
    if address.startswith("unix://"):
        connector = aiohttp.UnixConnector(address.removeprefix("unix://"), limit=0)
        # With a connector of its own, aiodocker builds URLs from `url`: a dummy host.
        return _OwningDocker(url="unix://localhost", connector=connector)
    return aiodocker.Docker(url=address)


class _OwningDocker(aiodocker.Docker):
    """aiodocker leaves a connector it was given open; this client closes it too."""

    async def close(self) -> None:
        await super().close()
        await self.connector.close()


def error_message(exc: aiodocker.DockerError) -> str:
    """The engine's message, which aiodocker may hand over as something other than text."""
    return exc.message if isinstance(exc.message, str) else str(exc.message)


async def describe(docker: aiodocker.Docker) -> str:
    """`Docker 20.10.24 at unix:///var/run/docker.sock`; raises EngineUnavailable."""
    try:
        async with asyncio.timeout(PING_TIMEOUT_S):
            version = await docker.version()
    except (aiodocker.DockerError, aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise EngineUnavailable(
            f"no Docker engine answers at {engine_address()}: {exc}. Start Docker (or set "
            "DOCKER_HOST), or run with --executor process"
        ) from None
    return f"Docker {version.get('Version', '?')} at {engine_address()}"


def stack_id(settings: Settings) -> str:
    """The stack's id: TARN_STACK_ID, else one derived from the data dir, stable across runs."""
    if settings.stack_id:
        return settings.stack_id
    data_dir = os.path.realpath(settings.data_dir)
    return hashlib.sha256(f"{socket.gethostname()}:{data_dir}".encode()).hexdigest()[:16]


def stack_filter(stack: str, worker: str | None = None) -> dict[str, list[str]]:
    labels = [f"{STACK_LABEL}={stack}"]
    if worker is not None:
        labels.append(f"{WORKER_LABEL}={worker}")
    return {"label": labels}


async def remove_containers(docker: aiodocker.Docker, filters: dict[str, list[str]]) -> int:
    """Force-remove every container (running or not) that matches `filters`; how many."""
    containers = await docker.containers.list(all=True, filters=json.dumps(filters))
    results = await asyncio.gather(
        *(c.delete(force=True) for c in containers), return_exceptions=True
    )
    for result in results:  # one already gone is fine; anything else is worth knowing
        if isinstance(result, aiodocker.DockerError) and result.status != 404:
            raise result
    return len(containers)


async def _prepare(settings: Settings) -> int:
    """Print the engine's name and remove the stack's leftovers; NO_ENGINE if none answers."""
    try:
        docker = open_engine()
    except EngineUnavailable as exc:
        print(f"tarn: {exc}", file=sys.stderr)
        return NO_ENGINE
    try:
        description = await describe(docker)
        removed = await remove_containers(docker, stack_filter(stack_id(settings)))
    except EngineUnavailable as exc:
        print(f"tarn: {exc}", file=sys.stderr)
        return NO_ENGINE
    finally:
        await docker.close()
    print(description)
    if removed:
        print(f"tarn: removed {removed} leftover container(s) of this stack", file=sys.stderr)
    return 0


def main() -> None:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise SystemExit(f"tarn: {exc}") from None
    sys.exit(asyncio.run(_prepare(settings)))


if __name__ == "__main__":
    main()
