"""localhost:2773 inside function containers that have a network namespace of their own.

With the bridge placement (Docker Desktop, or TARN_DOCKER_NETWORK=bridge) a container's
loopback is its own, so the pool worker's Parameters and Secrets extension is not on it. As
Tarn's Lambda page describes, a small static proxy (proxy/main.go, built once per machine with
Go and cached by its source's hash) is mounted into each such container, listens on the port
the function expects, forwards to its own stack's extension, and runs the runtime's entrypoint.
Host and container placements share the worker's loopback and need none of this.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from workers.pool.variables import EXTENSION_PORT_VARIABLE

log = logging.getLogger("tarn.pool")

SOURCE = Path(__file__).with_name("proxy") / "main.go"
MOUNTED_AT = "/tarn/extension-proxy"
PROXY_VARIABLE = "TARN_EXTENSION_PROXY"  # "<port inside>=<host>:<port>", read by the proxy
AWS_PORT = "2773"  # the extension's port on Lambda
BUILD_TIMEOUT_S = 300


class ExtensionProxy:
    """The proxy binary for this machine, built on first use; None where it cannot be."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self._lock = asyncio.Lock()
        self._binary: Path | None = None
        self._tried = False

    async def binary(self) -> Path | None:
        async with self._lock:
            if not self._tried:
                self._tried = True
                self._binary = await self._build()
            return self._binary

    async def _build(self) -> Path | None:
        digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]
        binary = self.cache_dir / f"tarn-extension-proxy-{digest}"
        if binary.exists():
            return binary
        go = shutil.which("go")
        if go is None:
            log.warning(
                "function containers on a bridge network reach the Parameters and Secrets "
                "extension only at host.docker.internal:$%s: install Go to have Tarn build "
                "the proxy that serves it on localhost",
                EXTENSION_PORT_VARIABLE,
            )
            return None
        log.info("building the Parameters and Secrets extension proxy for containers (once)")
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        partial = binary.with_suffix(f".{os.getpid()}.partial")
        environment = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-trimpath"}
        if not {"HOME", "XDG_CACHE_HOME", "GOCACHE"} & environment.keys():
            environment["GOCACHE"] = str(self.cache_dir / "go-build")  # Go needs one
        process = await asyncio.create_subprocess_exec(
            *(go, "build", "-ldflags=-s", "-o", str(partial), str(SOURCE)),
            env=environment,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            output, _ = await asyncio.wait_for(process.communicate(), BUILD_TIMEOUT_S)
        except TimeoutError:
            process.kill()
            output = b"timed out"
        if process.returncode != 0:
            log.warning("could not build the extension proxy: %s", output.decode(errors="replace"))
            return None
        partial.replace(binary)
        return binary


def wrap(
    config: dict[str, Any],
    entrypoint: list[str],
    binary_on_host: str,
    target_host: str,
    pool_port: int,
) -> None:
    """Make `config` (a create-container body) start the proxy before `entrypoint`: it serves
    2773 inside (or the port the function names itself) and forwards to the same port of
    `target_host`, where the worker's extension listens (`pool_port`: its own port)."""
    variables = dict(entry.split("=", 1) for entry in config["Env"])
    port = variables.get(EXTENSION_PORT_VARIABLE)
    if not port or not pool_port:
        return  # no extension for this environment
    inside = AWS_PORT if port == str(pool_port) else port
    variables[EXTENSION_PORT_VARIABLE] = inside
    variables[PROXY_VARIABLE] = f"{inside}={target_host}:{port}"
    config["Env"] = [f"{name}={value}" for name, value in variables.items()]
    config["Entrypoint"] = [MOUNTED_AT, *entrypoint]
    config["HostConfig"].setdefault("Binds", []).append(f"{binary_on_host}:{MOUNTED_AT}:ro")
