"""The Makefile's two commands work in a virtualenv: nothing they run installs into, or runs
from, the system Python, which Debian 12 and Ubuntu mark "externally managed" (PEP 668)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# A command (a line's first word, or one after `&&`, `||`, `;`, `|`, `{`, `$(`) that is a
# Python tool: it must come from the virtualenv.
TOOL = re.compile(r"(?:^|[;|&{(]\s*)((?:[^\s(]*/)?(?:pip3?|ruff|mypy|pytest|python3?))(?=\s|$)")


def planned(*targets: str, venv: Path) -> list[str]:
    """The commands `make TARGET` would run for a machine with no virtualenv yet."""
    if shutil.which("make") is None:
        pytest.fail("make is not installed")
    done = subprocess.run(
        ["make", "-n", "-B", f"VENV={venv}", *targets],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return [line.strip() for line in done.stdout.splitlines() if not line.strip().startswith("#")]


@pytest.mark.parametrize("target", ["test", "run"])
def test_make_runs_every_python_tool_from_the_virtualenv(target: str, tmp_path: Path) -> None:
    venv = tmp_path / ".venv"
    lines = planned(target, venv=venv)
    assert any(line.startswith(f"python3 -m venv {venv}") for line in lines)
    tools = [(line, tool) for line in lines for tool in TOOL.findall(line)]
    assert tools
    outside = [
        line
        for line, tool in tools
        if not tool.startswith(f"{venv}/bin/") and not line.startswith(("python3 -m venv", "test "))
    ]
    assert outside == []


def test_make_installs_the_checkout_into_the_virtualenv(tmp_path: Path) -> None:
    venv = tmp_path / ".venv"
    assert f"{venv}/bin/python -m pip install" in "\n".join(planned("install", venv=venv))


def test_make_run_says_how_to_get_tarn_on_path(tmp_path: Path) -> None:
    venv = tmp_path / ".venv"
    assert any(f". {venv}/bin/activate" in line for line in planned("run", venv=venv))


def test_the_virtualenv_is_not_committed() -> None:
    assert ".venv/" in (ROOT / ".gitignore").read_text().splitlines()
