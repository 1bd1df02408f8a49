"""Stand-ins for the AWS Lambda base images, built without a registry: debootstrap, import, build.

    python -m tests.docker.images.build

A Debian root file system (debootstrap --variant=minbase, python3, nodejs, curl) is imported
as the base, with the base images' contract: /lambda-entrypoint.sh taking the handler,
/var/task, /opt, LAMBDA_TASK_ROOT. Thin images add /var/runtime/bootstrap: awslambdaric for
Python, Tarn's Node.js and Ruby bootstraps, Tarn's Java client (Ruby and the JDK come from
Debian in a layer of their own, so the base stays small). Every tag carries a hash of what went
into it, so a machine builds each once; the slow part (debootstrap, ~1 min) only when the base
changes.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiodocker
from multidict import MultiDict
from yarl import URL

from workers.docker.engine import open_engine
from workers.docker.images import image_present
from workers.pool import interpreters
from workers.pool.interpreters import (
    JAVA_MAIN,
    JAVA_OPTIONS,
    JAVA_SOURCES,
    NODE_BOOTSTRAP,
    RUBY_BOOTSTRAP,
)

HERE = Path(__file__).resolve().parent
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
PACKAGES = ("python3", "nodejs", "curl")
# Debian's python3 is 3.11: it stands in for every python3.x tag.
PYTHON_TAG = "3.11"
# Left out of the root file system: documentation, translations and apt's caches.
TRIMMED = ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale")
BASE_CHANGES = [
    "ENV LANG=en_US.UTF-8",
    "ENV TZ=:/etc/localtime",
    "ENV PATH=/var/lang/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/bin",
    "ENV LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:"
    "/var/task:/var/task/lib:/opt/lib",
    "ENV LAMBDA_TASK_ROOT=/var/task",
    "ENV LAMBDA_RUNTIME_DIR=/var/runtime",
    "WORKDIR /var/task",
    'ENTRYPOINT ["/lambda-entrypoint.sh"]',
]
REPOSITORY = "tarn-test/lambda"
FUNCTION_APP = """\
import os

def handler(event, context):
    return {"image": event, "cwd": os.getcwd(), "argv_handler": os.environ.get("_HANDLER")}
"""


@dataclass(frozen=True)
class StandIns:
    """The built images' names: runtime -> image, and a PackageType Image function."""

    runtimes: dict[str, str]
    function_image: str

    @property
    def overrides(self) -> str:
        """As TARN_IMAGE_OVERRIDES."""
        return ",".join(f"{runtime}={image}" for runtime, image in self.runtimes.items())


def say(message: str) -> None:
    print(f"[stand-in images] {message}", file=sys.stderr, flush=True)


def digest(*parts: bytes) -> str:
    hashed = hashlib.sha256()
    for part in parts:
        hashed.update(hashlib.sha256(part).digest())
    return hashed.hexdigest()[:12]


def base_tag() -> str:
    recipe = json.dumps([SUITE, MIRROR, PACKAGES, TRIMMED, BASE_CHANGES]).encode()
    return f"{REPOSITORY}/base:{digest(recipe, (HERE / 'lambda-entrypoint.sh').read_bytes())}"


def ric_version() -> str:
    from importlib.metadata import version

    return version("awslambdaric")


async def build_all() -> StandIns:
    """Build whatever is missing; returns the images' names."""
    docker = open_engine()
    try:
        base = base_tag()
        if not await image_present(docker, base):
            await build_base(docker, base)
        suffix = base.rpartition(":")[2]
        provided = await build_runtime(docker, base, "provided", "al2023", suffix)
        ruby = await build_runtime(docker, base, "ruby", "debian", suffix)
        java = await build_runtime(docker, base, "java", "debian", suffix)
        runtimes = {
            "python3.12": await build_runtime(docker, base, "python", "3.12", suffix),
            "nodejs20.x": await build_runtime(docker, base, "nodejs", "20", suffix),
            "provided.al2023": provided,
            "provided.al2": provided,
            # One image per language: Debian's Ruby and JDK stand in for every version.
            "ruby3.2": ruby,
            "ruby3.3": ruby,
            "java17": java,
            "java21": java,
        }
        function = await build_function(docker, runtimes["python3.12"])
        return StandIns(runtimes, function)
    finally:
        await docker.close()


async def build_base(docker: aiodocker.Docker, tag: str) -> None:
    started = time.monotonic()
    say(f"building {tag} (once per machine): debootstrap {SUITE} with {', '.join(PACKAGES)}")
    with tempfile.TemporaryDirectory(prefix="tarn-rootfs-") as scratch:
        archive = await asyncio.to_thread(rootfs_archive, Path(scratch))
        say(f"root file system made after {time.monotonic() - started:.0f} s; importing")
        await import_rootfs(docker, archive, tag)
    say(f"built {tag} in {time.monotonic() - started:.0f} s")


def rootfs_archive(scratch: Path) -> Path:
    rootfs = scratch / "rootfs"
    debootstrap(rootfs)
    archive = scratch / "rootfs.tar"
    subprocess.run(["tar", "-C", str(rootfs), "-cf", str(archive), "."], check=True)
    return archive


def debootstrap(rootfs: Path) -> None:
    binary = shutil.which("debootstrap") or ensure_debootstrap()
    command = [binary, "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE]
    with subprocess.Popen(
        [*command, str(rootfs), MIRROR], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    ) as process:  # closes the pipe: an unclosed one is a ResourceWarning, an error here
        assert process.stdout is not None
        stage = ""
        for line in process.stdout:  # progress: a line per stage (Retrieving, Extracting, ...)
            text = line.decode(errors="replace").rstrip()
            if text.startswith(("E:", "W:")) or not text.startswith(f"I: {stage}"):
                stage = text[3:].split(" ")[0] if text.startswith("I: ") else ""
                say(text)
    if process.returncode != 0:
        raise RuntimeError(f"debootstrap failed with exit status {process.returncode}")
    for relative in TRIMMED:
        shutil.rmtree(rootfs / relative, ignore_errors=True)
    for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for path in (rootfs / cache).glob("*"):
            if path.is_file():
                path.unlink()
    for folder in ("var/task", "var/runtime", "opt"):
        (rootfs / folder).mkdir(parents=True, exist_ok=True)
    entrypoint = rootfs / "lambda-entrypoint.sh"
    shutil.copy(HERE / "lambda-entrypoint.sh", entrypoint)
    entrypoint.chmod(0o755)


def ensure_debootstrap() -> str:
    if os.geteuid() != 0:
        raise RuntimeError("debootstrap is not installed: apt-get install debootstrap (as root)")
    say("installing debootstrap (Debian package)")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "debootstrap"], check=True)
    found = shutil.which("debootstrap")
    if found is None:
        raise RuntimeError("debootstrap is still missing after apt-get install")
    return found


async def import_rootfs(docker: aiodocker.Docker, archive: Path, tag: str) -> None:
    """`docker import` through the engine's API, with the base images' configuration."""
    repo, _, version = tag.rpartition(":")
    query = MultiDict([("fromSrc", "-"), ("repo", repo), ("tag", version)])
    query.extend(("changes", change) for change in BASE_CHANGES)  # repeated: not a dict
    async with docker._query(
        URL("images/create").with_query(query),
        method="POST",
        data=_chunks(archive),
        headers={"Content-Type": "application/x-tar"},
        timeout=None,
    ) as response:
        for line in (await response.read()).splitlines():
            if b'"error"' in line:
                raise RuntimeError(f"importing {tag} failed: {line.decode()}")


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as source:
        while chunk := source.read(1 << 20):
            yield chunk


async def build_runtime(
    docker: aiodocker.Docker, base: str, lang: str, tag: str, suffix: str
) -> str:
    files = {"Dockerfile": (HERE / f"{lang}.Dockerfile").read_bytes(), **runtime_files(lang)}
    extra = ric_version().encode() if lang == "python" else b""
    name = f"{REPOSITORY}/{lang}:{tag}-{digest(base.encode(), extra, *files.values())}"
    if await image_present(docker, name):
        return name
    say(f"building {name}")
    with tempfile.TemporaryDirectory(prefix="tarn-context-") as scratch:
        context = Path(scratch)
        for relative, data in files.items():
            (context / relative).parent.mkdir(parents=True, exist_ok=True)
            (context / relative).write_bytes(data)
            (context / relative).chmod(0o755)
        (context / "ric").mkdir()
        if lang == "python":
            await asyncio.to_thread(install_ric, context / "ric")
        await build_image(docker, context, name, base)
    return name


def runtime_files(lang: str) -> dict[str, bytes]:
    """What the language's image adds to the build context, by path in the context."""
    match lang:
        case "python":
            return {"python-bootstrap": (HERE / "python-bootstrap").read_bytes()}
        case "nodejs":
            return {
                "nodejs-bootstrap": (HERE / "nodejs-bootstrap").read_bytes(),
                "bootstrap.mjs": NODE_BOOTSTRAP.read_bytes(),
            }
        case "ruby":
            return {
                "ruby-bootstrap": (HERE / "ruby-bootstrap").read_bytes(),
                "bootstrap.rb": RUBY_BOOTSTRAP.read_bytes(),
            }
        case "java":
            sources = sorted(JAVA_SOURCES.rglob("*.java"))
            return {"java-bootstrap": java_bootstrap()} | {
                f"java/{source.relative_to(JAVA_SOURCES).as_posix()}": source.read_bytes()
                for source in sources
            }
    return {}


def java_bootstrap() -> bytes:
    """The Java stand-in's runtime: Tarn's client, started as the process executor starts it."""
    command = ["java", *JAVA_OPTIONS, "-cp", "/var/runtime/classes", JAVA_MAIN]
    return f"#!/bin/sh\nexec {' '.join(command)}\n".encode()


def install_ric(target: Path) -> None:
    """awslambdaric for the image's Python (3.11 on this base), whatever the host's is."""
    interpreters.install_ric(target, PYTHON_TAG, f"awslambdaric=={ric_version()}")


async def build_function(docker: aiodocker.Docker, python_image: str) -> str:
    app = FUNCTION_APP.encode()
    dockerfile = (HERE / "function.Dockerfile").read_bytes()
    name = f"tarn-test/function:{digest(python_image.encode(), app, dockerfile)}"
    if await image_present(docker, name):
        return name
    with tempfile.TemporaryDirectory(prefix="tarn-context-") as scratch:
        (Path(scratch) / "Dockerfile").write_bytes(dockerfile)
        (Path(scratch) / "app.py").write_bytes(app)
        await build_image(docker, Path(scratch), name, python_image)
    return name


async def build_image(docker: aiodocker.Docker, context: Path, name: str, base: str) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        archive.add(context, arcname=".")
    buffer.seek(0)
    output = await docker.images.build(
        fileobj=buffer,
        encoding="identity",
        tag=name,
        buildargs={"BASE": base},
        rm=True,
        forcerm=True,
    )
    errors = [line["error"] for line in output if isinstance(line, dict) and "error" in line]
    if errors:
        raise RuntimeError(f"building {name} failed: {errors[-1]}")


if __name__ == "__main__":
    print(asyncio.run(build_all()))
