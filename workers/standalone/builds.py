"""`tarn build`'s engine: a function's dependencies installed beside its code, as Lambda loads
them (Python packages at the package's root, Node.js ones in node_modules/).

With the process executor, by the runtime's own interpreter (pip --target, npm install); with
Docker, inside the runtime's image, as `sam build --use-container` and docker-lambda's `build-`
images do, so native wheels match Lambda's Linux and architecture. The installers' output goes
to `output` line by line, as progress.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import anyio

from bus.settings import Settings
from workers.pool.interpreters import language, python_for
from workers.standalone.functions import LocalFunction

Output = Callable[[bytes], None]
REQUIREMENTS = "requirements.txt"
PACKAGE_JSON = "package.json"
PIP_OPTIONS = ("--disable-pip-version-check", "--no-input", "--root-user-action=ignore")
NPM_OPTIONS = ("--omit=dev", "--no-audit", "--no-fund")
# Where the folder being built is mounted in a build container: the runtime's task root.
TASK_ROOT = "/var/task"
# Where this machine's pip is lent to a build container whose image has none (pure Python).
LENT_PIP = "/var/tarn-pip"


class BuildError(Exception):
    """The dependencies could not be installed; the message says why and what to do."""


def manifest(folder: Path, runtime: str) -> str | None:
    """The dependency list the runtime's installer reads, if the folder has one."""
    name = {"python": REQUIREMENTS, "nodejs": PACKAGE_JSON}.get(language(runtime))
    if name is None:
        raise BuildError(
            f"tarn build installs requirements.txt (Python) and package.json (Node.js); "
            f"{runtime} functions bring their dependencies in their own build"
        )
    return name if (folder / name).is_file() else None


async def install(
    function: LocalFunction, folder: Path, settings: Settings, output: Output
) -> bool:
    """Install the dependencies of `folder` (a copy of the code) into it; False when it lists
    none. BuildError when the installer fails."""
    if manifest(folder, function.runtime) is None:
        return False
    if function.executor == "docker":
        from workers.standalone.container_builds import install_in_image

        script = container_script(function)
        status = await install_in_image(function, folder, settings, script, output)
        if status != 0:
            raise BuildError(f"the build container ({script}) ended with status {status}")
        return True
    command = local_command(function.runtime, folder)
    status = await _stream(command, folder, output)
    if status != 0:
        raise BuildError(f"{command[0]} {' '.join(command[1:4])} ... ended with status {status}")
    return True


def local_command(runtime: str, folder: Path) -> list[str]:
    """pip of the runtime's Python (the host's pip for its version when it has none), or npm."""
    if language(runtime) == "nodejs":
        npm = shutil.which("npm")
        if npm is None:
            raise BuildError("npm is not installed: install Node.js, or use --executor docker")
        return [npm, "install", *NPM_OPTIONS]
    version = runtime.removeprefix("python")
    found = python_for(version)
    target = ["-r", REQUIREMENTS, "--target", str(folder), *PIP_OPTIONS]
    if found is not None and _has_pip(found[1]):
        return [found[1], "-m", "pip", "install", *target]
    # Wheels for the runtime's version and Lambda's Linux, by this Python's pip.
    machine = "aarch64" if platform.machine() in ("arm64", "aarch64") else "x86_64"
    cross = ["--python-version", version, "--only-binary=:all:"]
    cross += ["--platform", f"manylinux2014_{machine}"]
    return [sys.executable, "-m", "pip", "install", *target, *cross]


def container_script(function: LocalFunction) -> str:
    """The shell command a build container of the runtime's image runs in TASK_ROOT."""
    if language(function.runtime) == "nodejs":
        return f"npm install {' '.join(NPM_OPTIONS)}"
    options = " ".join(PIP_OPTIONS)
    lend = f"python3 -c 'import pip' 2>/dev/null || export PYTHONPATH={LENT_PIP}"
    return f"{lend}; python3 -m pip install -r {REQUIREMENTS} --target {TASK_ROOT} {options}"


def _has_pip(python: str) -> bool:
    probe = subprocess.run([python, "-c", "import pip"], capture_output=True)
    return probe.returncode == 0


async def _stream(command: list[str], folder: Path, output: Output) -> int:
    """Run `command` in `folder`, its output (stdout and stderr, in order) to `output`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    async with await anyio.open_process(
        command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    ) as process:
        assert process.stdout is not None
        async for chunk in process.stdout:
            output(chunk)
        return await process.wait()
