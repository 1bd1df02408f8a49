"""`tarn lambda` run as a user runs it: a real subprocess against the session's real stack."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Stack

Tarn = Callable[..., subprocess.CompletedProcess[str]]

COMMAND_TIMEOUT_S = 120


def cli_env(endpoint: str) -> dict[str, str]:
    """The test's environment without AWS settings of its own, and the stack's URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TARN_", "AWS_"))}
    return env | {"TARN_ENDPOINT": endpoint}


def run_tarn(
    args: list[str], *, cwd: Path, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        cwd=cwd,
        env=env | {"PYTHONPATH": str(Path(__file__).parents[2])},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
    )


@pytest.fixture
def tarn(stack: Stack, tmp_path: Path) -> Tarn:
    """`tarn(*args, stdin=...)` runs `tarn lambda ...` in the test's folder."""

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return run_tarn(["lambda", *args], cwd=tmp_path, env=cli_env(stack.url), stdin=stdin)

    return run


def python_package(folder: Path, code: str, name: str = "app.py") -> Path:
    """`function.zip` in `folder`, holding one Python module."""
    import zipfile

    path = folder / "function.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(name, code)
    return path
