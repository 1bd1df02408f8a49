"""Image names, overrides and network placement: pure functions, no engine needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bus.records import FunctionVersion
from workers.docker.images import (
    ImageUnavailable,
    function_image,
    parse_overrides,
    platform,
    runtime_image,
)
from workers.docker.placement import Placement, PlacementError, initial

# https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html, with their base images.
AWS_RUNTIMES = {
    "nodejs18.x": "nodejs:18",
    "nodejs20.x": "nodejs:20",
    "nodejs22.x": "nodejs:22",
    "nodejs24.x": "nodejs:24",
    "python3.9": "python:3.9",
    "python3.10": "python:3.10",
    "python3.11": "python:3.11",
    "python3.12": "python:3.12",
    "python3.13": "python:3.13",
    "python3.14": "python:3.14",
    "java11": "java:11",
    "java17": "java:17",
    "java21": "java:21",
    "ruby3.2": "ruby:3.2",
    "ruby3.3": "ruby:3.3",
    "ruby3.4": "ruby:3.4",
    "dotnet8": "dotnet:8",
    "provided.al2": "provided:al2",
    "provided.al2023": "provided:al2023",
}


def function(**config: object) -> FunctionVersion:
    arn = "arn:aws:lambda:us-east-1:000000000000:function:f"
    return FunctionVersion(name="f", arn=arn, **config)  # type: ignore[arg-type]


@pytest.mark.parametrize(("runtime", "image"), AWS_RUNTIMES.items())
def test_every_aws_runtime_has_its_base_image(runtime: str, image: str) -> None:
    assert runtime_image(runtime) == f"public.ecr.aws/lambda/{image}"


def test_an_unknown_runtime_has_no_image() -> None:
    with pytest.raises(ValueError, match="no AWS base image"):
        runtime_image("cobol85")


def test_overrides_replace_the_image_per_runtime() -> None:
    overrides = parse_overrides(" python3.12=mirror/python:3.12 , nodejs20.x=node:20 ")
    assert overrides == {"python3.12": "mirror/python:3.12", "nodejs20.x": "node:20"}
    assert function_image(function(runtime="python3.12"), overrides) == "mirror/python:3.12"
    assert function_image(function(runtime="python3.13"), overrides) == (
        "public.ecr.aws/lambda/python:3.13"
    )
    with pytest.raises(ValueError, match="<runtime>=<image>"):
        parse_overrides("python3.12")


def test_image_functions_run_their_own_image_on_their_architecture() -> None:
    own = function(package_type="Image", image_uri="repo/app:1", architectures=["arm64"])
    assert function_image(own, {}) == "repo/app:1"
    assert platform(own) == "linux/arm64"
    assert platform(function()) == "linux/amd64"


def test_the_pull_error_names_the_image_and_the_fix() -> None:
    message = str(ImageUnavailable("public.ecr.aws/lambda/python:3.12", "no such host"))
    assert "public.ecr.aws/lambda/python:3.12" in message
    assert "docker pull public.ecr.aws/lambda/python:3.12" in message
    assert "TARN_IMAGE_OVERRIDES" in message


def test_placement_by_setting() -> None:
    assert initial("host") == Placement("host", "127.0.0.1", "127.0.0.1")
    assert initial("container:tarn-pool").network_mode == "container:tarn-pool"
    bridge = initial("bridge")
    assert bridge.api_host == "host.docker.internal"
    assert bridge.extra_hosts == ("host.docker.internal:host-gateway",)
    with pytest.raises(PlacementError):
        initial("overlay")


def test_code_on_a_volume_of_the_workers_container_is_mounted_from_its_source() -> None:
    placement = Placement(
        "container:abc", "127.0.0.1", "127.0.0.1", mounts={"/data": "/srv/volumes/tarn/_data"}
    )
    assert placement.host_path(Path("/data/code/ab")) == "/srv/volumes/tarn/_data/code/ab"
    with pytest.raises(PlacementError, match="TARN_DATA_DIR"):
        placement.host_path(Path("/elsewhere/code"))
    assert initial("host").host_path(Path("/data/code")) == "/data/code"
