"""Builds inside the runtime's image: one throwaway container with the folder mounted at
/var/task, run as the calling user so that what it installs is theirs; its output is progress."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiodocker
import aiohttp
import anyio

from bus.settings import Settings
from workers.docker.containers import create_container
from workers.docker.engine import EngineUnavailable, error_message, open_engine
from workers.docker.images import (
    ImageUnavailable,
    ensure_image,
    function_image,
    parse_overrides,
    platform,
)
from workers.docker.sandboxes import DockerSandbox
from workers.standalone.builds import LENT_PIP, TASK_ROOT, BuildError
from workers.standalone.functions import LocalFunction

# The host's package indexes and proxies, which a build inside a container needs as much.
FORWARDED = (
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_TRUSTED_HOST",
    "npm_config_registry",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
)
CERTIFICATES = ("PIP_CERT", "NODE_EXTRA_CA_CERTS")
CA_DIR = "/var/tarn-ca"


async def install_in_image(
    function: LocalFunction,
    folder: Path,
    settings: Settings,
    script: str,
    output: Callable[[bytes], None],
) -> int:
    """Run `script` in a container of the function's image; its exit status."""
    record = function.version_record(settings.region, settings.account_id)
    try:
        docker = open_engine()
    except EngineUnavailable as exc:
        raise BuildError(str(exc)) from None
    try:
        image = function_image(record, parse_overrides(settings.image_overrides))
        await ensure_image(docker, image, platform(record))
        config = _config(image, folder, script)
        container_id = await create_container(docker, config, platform(record))
        sandbox = DockerSandbox(docker, container_id, output)
        try:
            await sandbox.begin()
            return await sandbox.wait()
        finally:
            with anyio.CancelScope(shield=True):
                await sandbox.kill()
    except (ValueError, ImageUnavailable) as exc:
        raise BuildError(str(exc)) from None
    except aiodocker.DockerError as exc:
        raise BuildError(f"the build container could not run: {error_message(exc)}") from None
    except aiohttp.ClientError as exc:
        raise BuildError(f"the Docker engine did not answer: {exc}") from None
    finally:
        await docker.close()


def _config(image: str, folder: Path, script: str) -> dict[str, Any]:
    binds = [f"{folder.resolve()}:{TASK_ROOT}:rw", _lent_pip()]
    # Caches of pip and npm in the container's /tmp: the user has no home there.
    env = {"HOME": "/tmp", "npm_config_cache": "/tmp/.npm", "PIP_CACHE_DIR": "/tmp/.pip"}
    env |= {name: os.environ[name] for name in FORWARDED if os.environ.get(name)}
    for name in CERTIFICATES:  # the host's CA bundle (a proxy's), where pip and npm look
        bundle = os.environ.get(name)
        if bundle and Path(bundle).is_file():
            binds.append(f"{Path(bundle).resolve()}:{CA_DIR}/{name}:ro")
            env[name] = f"{CA_DIR}/{name}"
    return {
        "Image": image,
        "Entrypoint": ["/bin/sh", "-c"],
        "Cmd": [script],
        "WorkingDir": TASK_ROOT,
        "User": f"{os.getuid()}:{os.getgid()}",
        "Env": [f"{name}={value}" for name, value in env.items()],
        "AttachStdout": True,
        "AttachStderr": True,
        "HostConfig": {"Binds": binds, "Init": True},
    }


def _lent_pip() -> str:
    """This machine's pip, read-only, for an image without one (the script uses it then)."""
    import pip

    return f"{Path(pip.__file__).parent}:{LENT_PIP}/pip:ro"
