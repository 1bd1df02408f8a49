"""The process executor's runtimes: which local interpreter runs each Lambda runtime.

`pythonX.Y` runs on that Python when it is installed, with awslambdaric in a per-version
environment under the data dir (made once); Ruby on the local `ruby`, Java on the local JDK
with Tarn's runtime client (compiled once). A runtime no local program can run is refused.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from workers.pool.executors.base import UnsupportedFunction

RUNTIMES_DIR = Path(__file__).resolve().parent / "runtimes"
NODE_BOOTSTRAP = RUNTIMES_DIR / "nodejs" / "bootstrap.mjs"
RUBY_BOOTSTRAP = RUNTIMES_DIR / "ruby" / "bootstrap.rb"
JAVA_SOURCES = RUNTIMES_DIR / "java"
JAVA_MAIN = "tarn.lambda.Bootstrap"
# AWS's Java runtimes start the JVM so: client compiler only, for a short start.
JAVA_OPTIONS = ("-XX:+TieredCompilation", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
# Python versions a pythonX.Y runtime may fall back to when its own is not installed.
PYTHON_MINORS = range(8, 15)
DOCKER_FIX = "run it with the Docker executor (tarn up --executor docker)"
DOCKER_HINT = f"or {DOCKER_FIX}"


@dataclass(frozen=True, slots=True)
class Interpreter:
    """How to start a runtime's bootstrap here: the command before its arguments, the
    runtime's own folder (LAMBDA_RUNTIME_DIR), and a note for the log if it is a stand-in."""

    command: tuple[str, ...]
    runtime_dir: Path
    warning: str | None = None


def language(runtime: str) -> str:
    """ "python" for python3.12, "provided" for provided.al2023."""
    found = re.match(r"[a-z]+", runtime)
    return found.group() if found else runtime


def problem(runtime: str) -> str | None:
    """Why this machine cannot run `runtime` with the process executor (a StateReason), or
    None; quick: it looks for programs and prepares nothing."""
    match language(runtime):
        case "python" | "provided" | "nodejs":
            if language(runtime) == "nodejs" and not shutil.which("node"):
                return f"node is not installed: install Node.js {DOCKER_HINT}."
            return None
        case "ruby":
            if not shutil.which("ruby"):
                return f"ruby is not installed: install it (apt-get install ruby) {DOCKER_HINT}."
            return None
        case "java":
            if not (shutil.which("java") and shutil.which("javac")):
                return (
                    f"no JDK is installed: install one (apt-get install default-jdk) {DOCKER_HINT}."
                )
            return None
        case "dotnet":
            return f"The process executor cannot run {runtime} (no .NET runtime): {DOCKER_FIX}."
        case _:
            return f"The process executor cannot run {runtime}: {DOCKER_FIX}."


class LocalRuntimes:
    """Finds and prepares interpreters; environments and compiled clients live under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def interpreter(self, runtime: str) -> Interpreter:
        """The interpreter for `runtime`, prepared if need be (blocking: run it in a thread)."""
        reason = problem(runtime)
        if reason is not None:
            raise UnsupportedFunction(reason)
        match language(runtime):
            case "python":
                return self.python(runtime.removeprefix("python"))
            case "ruby":
                return ruby(runtime)
            case "java":
                return self.java(runtime)
            case "nodejs":
                return Interpreter(
                    (shutil.which("node") or "node", str(NODE_BOOTSTRAP)), NODE_BOOTSTRAP.parent
                )
        raise UnsupportedFunction(f"no local interpreter runs {runtime}")

    def python(self, version: str) -> Interpreter:
        found = python_for(version)
        warning = None
        if found is None:
            found = nearest_python(version)
            warning = (
                f"python{version} is not installed here: running on Python {found[0]} instead "
                f"(install python{version} {DOCKER_HINT})"
            )
        have, executable = found
        if have == host_python():
            return Interpreter((sys.executable,), host_ric_dir(), warning)
        site = self.python_environment(have, executable)
        return Interpreter(
            (str(site.parents[2] / "bin" / "python"),), site / "awslambdaric", warning
        )

    def python_environment(self, version: str, executable: str) -> Path:
        """A virtual environment of `executable` holding awslambdaric only, made once."""
        ric = importlib.metadata.version("awslambdaric")
        home = self.root / f"python{version}-awslambdaric{ric}-boto3"
        site = home / "lib" / f"python{version}" / "site-packages"
        if site.joinpath("awslambdaric").is_dir():
            return site
        self.root.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{home.name}-", dir=self.root))
        try:
            subprocess.run(
                [executable, "-m", "venv", "--without-pip", str(scratch)],
                check=True,
                capture_output=True,
            )
            # boto3 too, as AWS's Python runtimes have it.
            requirements = [f"awslambdaric<={ric}", f"boto3<={importlib.metadata.version('boto3')}"]
            install_ric(scratch / site.relative_to(home), version, *requirements)
            _settle(scratch, home)
        except subprocess.CalledProcessError as exc:
            shutil.rmtree(scratch, ignore_errors=True)
            detail = (exc.stderr or b"").decode(errors="replace")[-500:]
            raise UnsupportedFunction(
                f"could not set up awslambdaric for Python {version}: {detail}"
            ) from None
        return site

    def java(self, runtime: str) -> Interpreter:
        classes = self.java_client()
        have = java_version()
        wanted = runtime.removeprefix("java")
        warning = None if have == wanted else f"{runtime} runs on this machine's JDK {have}"
        command = (shutil.which("java") or "java", *JAVA_OPTIONS, "-cp", str(classes), JAVA_MAIN)
        return Interpreter(command, classes, warning)

    def java_client(self) -> Path:
        """Tarn's Java runtime client, compiled once per source and JDK into the data dir."""
        sources = sorted(JAVA_SOURCES.rglob("*.java"))
        hashed = hashlib.sha256(java_version().encode())
        for source in sources:
            hashed.update(source.read_bytes())
        classes = self.root / f"java-client-{hashed.hexdigest()[:12]}"
        if classes.is_dir():
            return classes
        self.root.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{classes.name}-", dir=self.root))
        command = [
            shutil.which("javac") or "javac",
            "-nowarn",
            "-d",
            str(scratch),
            *map(str, sources),
        ]
        built = subprocess.run(command, capture_output=True, text=True)
        if built.returncode != 0:
            shutil.rmtree(scratch, ignore_errors=True)
            raise UnsupportedFunction(
                f"compiling Tarn's Java runtime client failed: {built.stderr[-800:]}"
            )
        _settle(scratch, classes)
        return classes


def _settle(scratch: Path, home: Path) -> None:
    """Move a finished build into place; another process may have got there first."""
    try:
        scratch.rename(home)
    except OSError:
        shutil.rmtree(scratch, ignore_errors=True)


def install_ric(target: Path, python_version: str, *requirements: str) -> None:
    """awslambdaric's wheel (and others) for `python_version` into `target`, whatever the
    host's Python is."""
    machine = "aarch64" if platform.machine() in ("arm64", "aarch64") else "x86_64"
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target)]
    command += ["--python-version", python_version, "--only-binary=:all:", "--no-compile"]
    command += ["--root-user-action=ignore", "--disable-pip-version-check"]
    command += ["--platform", f"manylinux2014_{machine}", *requirements]
    subprocess.run(command, check=True, capture_output=True)


def host_python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def host_ric_dir() -> Path:
    spec = importlib.util.find_spec("awslambdaric")
    if spec is None or spec.origin is None:
        raise UnsupportedFunction("awslambdaric is not installed; the Python runtimes need it")
    return Path(spec.origin).parent


@cache
def python_for(version: str) -> tuple[str, str] | None:
    """(version, executable) of an installed `pythonX.Y`: on PATH (not pyenv's shims, which
    fail for a version not selected), in pyenv's versions, /usr/bin or /usr/local/bin."""
    if version == host_python():
        return version, sys.executable
    name = f"python{version}"
    folders = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and "shims" not in p]
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    folders += sorted(map(str, pyenv.glob(f"{version}*/bin")), reverse=True)
    folders += ["/usr/bin", "/usr/local/bin"]
    for folder in folders:
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return version, str(candidate)
    return None


def nearest_python(version: str) -> tuple[str, str]:
    """The installed Python closest to `version` (the host's on a tie)."""
    minor = int(version.split(".")[1]) if "." in version else sys.version_info.minor
    found = [f for m in PYTHON_MINORS if (f := python_for(f"3.{m}")) is not None]
    return min(found, key=lambda f: (abs(int(f[0].split(".")[1]) - minor), f[0] != host_python()))


@cache
def ruby_version() -> str:
    ruby = shutil.which("ruby") or "ruby"
    return subprocess.run(
        [ruby, "-e", "print RUBY_VERSION"], capture_output=True, text=True, check=True
    ).stdout


def ruby(runtime: str) -> Interpreter:
    have = ruby_version()
    wanted = runtime.removeprefix("ruby")
    warning = (
        None if have.startswith(wanted + ".") else f"{runtime} runs on this machine's Ruby {have}"
    )
    return Interpreter(
        (shutil.which("ruby") or "ruby", str(RUBY_BOOTSTRAP)), RUBY_BOOTSTRAP.parent, warning
    )


@cache
def java_version() -> str:
    """The local JDK's feature version ("17")."""
    java = shutil.which("java") or "java"
    shown = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', shown)
    if match is None:
        return "unknown"
    return match.group(2) if match.group(1) == "1" else match.group(1)
