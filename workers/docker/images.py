"""Runtime images: which image runs a function, and pulling it once, with progress in the log.

The AWS base images: https://docs.aws.amazon.com/lambda/latest/dg/images-create.html
(`public.ecr.aws/lambda/<lang>:<tag>`), e.g. python3.12 -> python:3.12, nodejs20.x -> nodejs:20,
java21 -> java:21, provided.al2023 -> provided:al2023.
"""

from __future__ import annotations

import logging
import re
import time

import aiodocker
import aiohttp
import anyio

from bus.records import FunctionVersion
from workers.docker.engine import error_message

log = logging.getLogger("tarn.images")

AWS_REPOSITORY = "public.ecr.aws/lambda"
# nodejs20.x, python3.12, java21, java8.al2, ruby3.3, dotnet8, provided.al2023
RUNTIME_PATTERN = re.compile(
    r"(?P<lang>nodejs)(?P<node>\d+)\.x|(?P<other>python|java|ruby|dotnet)(?P<tag>\d[\w.]*)"
    r"|provided\.(?P<provided>\w+)"
)
PLATFORMS = {"x86_64": "linux/amd64", "arm64": "linux/arm64"}
PROGRESS_EVERY_S = 2.0


class ImageUnavailable(Exception):
    """The image is not present and cannot be pulled; the message names it and the fix."""

    def __init__(self, image: str, reason: str) -> None:
        self.image = image
        super().__init__(
            f"Tarn could not pull the image {image}: {reason}. Pull or build it into the local "
            f"Docker engine (docker pull {image}), or point the runtime at another image with "
            "TARN_IMAGE_OVERRIDES=<runtime>=<image>."
        )


def runtime_image(runtime: str) -> str:
    """AWS's base image for `runtime`; raises ValueError for a name of no known shape."""
    match = RUNTIME_PATTERN.fullmatch(runtime)
    if match is None:
        raise ValueError(f"no AWS base image is known for the runtime {runtime}")
    if match["node"]:
        return f"{AWS_REPOSITORY}/nodejs:{match['node']}"
    if match["provided"]:
        return f"{AWS_REPOSITORY}/provided:{match['provided']}"
    return f"{AWS_REPOSITORY}/{match['other']}:{match['tag']}"


def parse_overrides(text: str) -> dict[str, str]:
    """`python3.12=repo/python:3.12,nodejs20.x=repo/node:20` as a mapping; ValueError if odd."""
    overrides = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        runtime, equals, image = item.partition("=")
        if not equals or not runtime.strip() or not image.strip():
            raise ValueError(f"TARN_IMAGE_OVERRIDES: {item!r} is not <runtime>=<image>")
        overrides[runtime.strip()] = image.strip()
    return overrides


def function_image(function: FunctionVersion, overrides: dict[str, str]) -> str:
    """The image a function runs in: its own (PackageType Image) or its runtime's."""
    if function.package_type == "Image":
        if not function.image_uri:
            raise ValueError(f"{function.name} is an Image function without an ImageUri")
        return function.image_uri
    runtime = function.runtime or ""
    return overrides.get(runtime) or runtime_image(runtime)


def platform(function: FunctionVersion) -> str:
    """Docker's platform for the function's Architectures (x86_64 unless it says arm64)."""
    architecture = (function.architectures or ["x86_64"])[0]
    return PLATFORMS.get(architecture, PLATFORMS["x86_64"])


async def image_present(docker: aiodocker.Docker, image: str) -> bool:
    try:
        await docker.images.inspect(image)
    except aiodocker.DockerError as exc:
        if exc.status == 404:
            return False
        raise
    return True


async def ensure_image(
    docker: aiodocker.Docker, image: str, platform: str, *, always_pull: bool = False
) -> None:
    """Pull `image` unless it is present (a present one only when asked); ImageUnavailable."""
    if not always_pull and await image_present(docker, image):
        return
    log.info("pulling %s (%s)", image, platform)
    started = time.monotonic()
    progress = _Progress(image)
    try:
        async for event in docker.images.pull(image, platform=platform, stream=True):
            progress.note(event)
    except (aiodocker.DockerError, aiohttp.ClientError) as exc:
        if always_pull and await image_present(docker, image):
            log.warning("could not pull %s again (%s); using the one present", image, exc)
            return
        raise ImageUnavailable(image, _reason(exc)) from None
    log.info("pulled %s in %.1f s", image, time.monotonic() - started)


def _reason(exc: Exception) -> str:
    if isinstance(exc, aiodocker.DockerError):
        return error_message(exc)
    return str(exc) or type(exc).__name__


class ImagePulls:
    """`ensure_image` under a lock per image, so a burst of starts or provisions on one
    runtime pulls its image once."""

    def __init__(self) -> None:
        self._locks: dict[str, anyio.Lock] = {}

    async def ensure(
        self, docker: aiodocker.Docker, image: str, platform: str, *, always_pull: bool = False
    ) -> None:
        async with self._locks.setdefault(image, anyio.Lock()):
            await ensure_image(docker, image, platform, always_pull=always_pull)


class _Progress:
    """Logs a pull's progress every few seconds: layers done and bytes downloaded."""

    def __init__(self, image: str) -> None:
        self.image = image
        self.layers: dict[str, tuple[int, int]] = {}  # id -> (bytes so far, total)
        self.done: set[str] = set()
        self.logged_at = time.monotonic()

    def note(self, event: dict[str, object]) -> None:
        layer = str(event.get("id", ""))
        status = str(event.get("status", ""))
        detail = event.get("progressDetail")
        if status in ("Pull complete", "Already exists"):
            self.done.add(layer)
        elif isinstance(detail, dict) and detail.get("total"):
            self.layers[layer] = (int(detail.get("current", 0)), int(detail["total"]))
        if time.monotonic() - self.logged_at >= PROGRESS_EVERY_S:
            self.logged_at = time.monotonic()
            current = sum(c for c, _ in self.layers.values()) / 1e6
            total = sum(t for _, t in self.layers.values()) / 1e6
            log.info(
                "pulling %s: %d layer(s) done, %.1f of %.1f MB downloaded",
                self.image,
                len(self.done),
                current,
                total,
            )
