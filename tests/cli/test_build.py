"""`tarn build` in process mode: requirements.txt installed beside a copy of the code by pip
(PyPI, a real download), usable as a folder by `tarn run` and as a zip."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.cli.conftest import run_tarn
from tests.cli.test_run import run_env, tarn_run

APP = "import six\n\ndef handler(event, context):\n    return six.__version__\n"


@pytest.fixture(scope="module")
def code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("build") / "fn"
    folder.mkdir()
    (folder / "app.py").write_text(APP)
    (folder / "requirements.txt").write_text("six==1.16.0\n")
    (folder / ".tarnignore").write_text("notes.txt\n")
    (folder / "notes.txt").write_text("not part of the function")
    return folder


def test_build_installs_requirements_beside_the_code_and_tarn_run_uses_it(code: Path) -> None:
    done = _tarn_build(code, "--out", "dist")
    assert done.returncode == 0, done.stderr
    assert "Successfully installed six-1.16.0" in done.stderr  # pip's own progress lines
    dist = code / "dist"
    assert (dist / "six.py").is_file() and (dist / "app.py").is_file()
    assert not (dist / "notes.txt").exists()
    assert not (code / "six.py").exists()  # the source folder stays as it was
    ran = tarn_run(code, "--code", "dist", "app.handler")
    assert json.loads(ran.stdout) == "1.16.0", ran.stderr


def test_build_writes_a_deployment_package(code: Path) -> None:
    done = _tarn_build(code, "--zip", "function.zip")
    assert done.returncode == 0, done.stderr
    names = zipfile.ZipFile(code / "function.zip").namelist()
    assert {"app.py", "six.py", "requirements.txt"} <= set(names)
    assert not any(name.startswith(".tarn") or name == "notes.txt" for name in names)


def test_build_without_a_dependency_list_names_what_it_needs(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    done = _tarn_build(tmp_path)
    assert done.returncode != 0
    assert "no requirements.txt or package.json" in done.stderr


def _tarn_build(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_tarn(["build", *args], cwd=folder, env=run_env())
