"""Tarn's pytest plugin as a user meets it: the README's example test file, run by pytest in a
subprocess (its own stack started by the `tarn_stack` fixture), and a plugin that costs nothing
to a session that does not use it."""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = re.compile(r"^```python\n(# test_greeter\.py\n.*?)^```$", re.MULTILINE | re.DOTALL)


def plugin_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TARN_", "AWS_"))}
    return env | {"PYTHONPATH": str(ROOT)}


def plugin_option() -> list[str]:
    """`-p services.testing.plugin` unless the installed Tarn registers it already."""
    installed = importlib.metadata.entry_points(group="pytest11")
    return (
        []
        if any(e.value == "services.testing.plugin" for e in installed)
        else ["-p", "services.testing.plugin"]
    )


def test_the_readme_example_test_file_passes(tmp_path: Path) -> None:
    found = EXAMPLE.search((ROOT / "README.md").read_text())
    assert found, "the README's example test file (```python, # test_greeter.py) is missing"
    (tmp_path / "test_greeter.py").write_text(found.group(1))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugin_option()]
    done = subprocess.run(
        [*command, "test_greeter.py"],
        cwd=tmp_path,
        env=plugin_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, f"{done.stdout[-4000:]}\n{done.stderr[-2000:]}"
    assert "3 passed" in done.stdout


def test_the_plugin_is_registered_and_light() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["pytest11"] == {"tarn": "services.testing.plugin"}
    probe = (
        "import sys, services.testing.plugin, services.testing\n"
        "heavy = {'boto3', 'botocore', 'redis', 'services.cli', 'workers.pool'}\n"
        "heavy &= set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], env=plugin_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
