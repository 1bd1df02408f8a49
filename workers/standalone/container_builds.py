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
from workers.standalone.builds import TASK_ROOT, BuildError
from workers.standalone.functions import LocalFunction


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
    return {
        "Image": image,
        "Entrypoint": ["/bin/sh", "-c"],
        "Cmd": [script],
        "WorkingDir": TASK_ROOT,
        "User": f"{os.getuid()}:{os.getgid()}",
        # Caches of pip and npm in the container's /tmp: the user has no home there.
        "Env": ["HOME=/tmp", "npm_config_cache=/tmp/.npm", "PIP_CACHE_DIR=/tmp/.pip"],
        "AttachStdout": True,
        "AttachStderr": True,
        "HostConfig": {"Binds": [f"{folder.resolve()}:{TASK_ROOT}:rw"], "Init": True},
    }
