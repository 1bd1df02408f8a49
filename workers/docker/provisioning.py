"""Images on the Docker engine, ensured while a version is provisioned (Docker executor only).

A version turns Active only once the image it runs in is present: pulled on first use, with
progress in the log; a present image is not pulled again unless TARN_IMAGE_PULL=always.
"""

from __future__ import annotations

import aiodocker

from bus.records import FunctionVersion
from bus.settings import Settings
from workers.docker.engine import EngineUnavailable, error_message, open_engine
from workers.docker.images import (
    ImagePulls,
    ImageUnavailable,
    function_image,
    parse_overrides,
    platform,
)

# https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html (StateReasonCode)
IMAGE_FAILURE_CODE = "ImageAccessDenied"


class ImageProvisioner:
    """Makes sure the image of each provisioned version is on the engine."""

    def __init__(self, settings: Settings) -> None:
        self.overrides = parse_overrides(settings.image_overrides)
        self.always_pull = settings.image_pull == "always"
        self._docker: aiodocker.Docker | None = None
        self._pulls = ImagePulls()

    async def ensure(self, function: FunctionVersion) -> str | None:
        """Why the function's image cannot be had, or None once it is present."""
        try:
            image = function_image(function, self.overrides)
        except ValueError as exc:
            return str(exc)
        try:
            await self._pulls.ensure(
                self._engine(), image, platform(function), always_pull=self.always_pull
            )
        except (ImageUnavailable, EngineUnavailable) as exc:
            return str(exc)
        except aiodocker.DockerError as exc:
            return f"the Docker engine refused to look up {image}: {error_message(exc)}"
        return None

    def _engine(self) -> aiodocker.Docker:
        if self._docker is None:
            self._docker = open_engine()
        return self._docker

    async def aclose(self) -> None:
        if self._docker is not None:
            await self._docker.close()
            self._docker = None
