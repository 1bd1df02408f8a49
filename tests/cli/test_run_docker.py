"""`tarn run --executor docker`: the runtime's image (a stand-in built by tests/docker/images),
the code read-only at /var/task and a layer's folder at /opt, no stack."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.cli.test_run import function, tarn_run
from workers.docker.engine import EngineUnavailable

APP = """\
import os, shared

def handler(event, context):
    return {"cwd": os.getcwd(), "layer": shared.WHO, "event": event}
"""


@pytest.fixture(scope="module")
def image_overrides() -> str:
    from tests.docker.images.build import build_all

    try:
        return asyncio.run(build_all()).overrides
    except EngineUnavailable as exc:
        pytest.skip(f"tarn run --executor docker needs a Docker engine: {exc}")


def test_docker_runs_the_folder_in_the_runtimes_image(image_overrides: str, tmp_path: Path) -> None:
    code = function(tmp_path / "fn", APP)
    layer = function(tmp_path / "layer" / "python", "WHO = 'the layer'\n", "shared.py").parent
    done = tarn_run(
        code,
        *("--executor", "docker", "--runtime", "python3.12", "--layer", str(layer)),
        "app.handler",
        '{"in": "docker"}',
        TARN_IMAGE_OVERRIDES=image_overrides,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer == {"cwd": "/var/task", "layer": "the layer", "event": {"in": "docker"}}
    assert "REPORT RequestId: " in done.stderr
