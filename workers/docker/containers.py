"""Creating a function's container on the engine: for the image's platform, with an Image
function's ImageConfig over the image's own entrypoint and command.

https://docs.aws.amazon.com/lambda/latest/api/API_ImageConfig.html
"""

from __future__ import annotations

import json
from typing import Any

import aiodocker


async def create_container(docker: aiodocker.Docker, config: dict[str, Any], platform: str) -> str:
    """Create a container from the engine's create-container body; its id."""
    # aiodocker's create() cannot pass the platform; the engine's API (1.41+) takes it.
    data = await docker._query_json(
        "containers/create",
        method="POST",
        data=json.dumps(config).encode(),
        params={"platform": platform},
    )
    return str(data["Id"])


def image_command(image_config: dict[str, object]) -> dict[str, Any]:
    """ImageConfig's EntryPoint, Command and WorkingDirectory override the image's own."""
    config: dict[str, Any] = {}
    if image_config.get("EntryPoint"):
        # The engine drops the image's CMD when the entrypoint is replaced; Lambda keeps it
        # unless Command replaces it too (None: the image's, looked up before creating).
        config["Entrypoint"] = list(image_config["EntryPoint"])  # type: ignore[call-overload]
        config["Cmd"] = None
    if image_config.get("Command"):
        config["Cmd"] = list(image_config["Command"])  # type: ignore[call-overload]
    if image_config.get("WorkingDirectory"):
        config["WorkingDir"] = str(image_config["WorkingDirectory"])
    return config


async def image_cmd(docker: aiodocker.Docker, image: str) -> list[str]:
    """The image's own CMD; empty when the image is absent (it is pulled when creating fails,
    and its command is then the image's)."""
    return await _image_config(docker, image, "Cmd")


async def image_entrypoint(docker: aiodocker.Docker, image: str) -> list[str]:
    """The image's own ENTRYPOINT; empty when the image is absent."""
    return await _image_config(docker, image, "Entrypoint")


async def _image_config(docker: aiodocker.Docker, image: str, field: str) -> list[str]:
    try:
        info = await docker.images.inspect(image)
    except aiodocker.DockerError:
        return []
    return list(info.get("Config", {}).get(field) or [])
