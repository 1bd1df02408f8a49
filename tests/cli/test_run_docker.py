"""`tarn build` and `tarn run` with `--executor docker`: the runtime's image (a stand-in built
by tests/docker/images, which lacks pip: Tarn lends its own), the built folder read-only at
/var/task and a layer's folder at /opt, no stack."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.cli.conftest import run_tarn
from tests.cli.test_run import function, run_env, tarn_run
from workers.docker.engine import EngineUnavailable

APP = """\
import os, shared, six

def handler(event, context):
    return {"cwd": os.getcwd(), "layer": shared.WHO, "six": six.__version__, "event": event}
"""


@pytest.fixture(scope="module")
def image_overrides() -> str:
    from tests.docker.images.build import build_all

    try:
        return asyncio.run(build_all()).overrides
    except EngineUnavailable as exc:
        pytest.skip(f"--executor docker needs a Docker engine: {exc}")


def test_a_folder_built_and_run_in_the_runtimes_image(image_overrides: str, tmp_path: Path) -> None:
    code = function(tmp_path / "fn", APP)
    (code / "requirements.txt").write_text("six==1.16.0\n")
    layer = function(tmp_path / "layer" / "python", "WHO = 'the layer'\n", "shared.py").parent
    docker = ("--executor", "docker", "--runtime", "python3.12")
    env = run_env(TARN_IMAGE_OVERRIDES=image_overrides)
    built = run_tarn(["build", *docker, "--out", "dist"], cwd=code, env=env)
    assert built.returncode == 0, built.stderr
    assert "Successfully installed six-1.16.0" in built.stderr  # pip's progress, from inside
    assert (code / "dist" / "six.py").is_file()
    done = tarn_run(
        code,
        *docker,
        *("--code", "dist", "--layer", str(layer)),
        "app.handler",
        '{"in": "docker"}',
        TARN_IMAGE_OVERRIDES=image_overrides,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer == {
        "cwd": "/var/task",
        "layer": "the layer",
        "six": "1.16.0",
        "event": {"in": "docker"},
    }
    assert "REPORT RequestId: " in done.stderr
