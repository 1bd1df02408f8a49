"""Tarn's image for the compose test, built on a locally made base (no registry here).

    python -m tests.compose.images

The base is the stand-in runtimes' Debian root file system (tests/docker/images/build.py,
debootstrap, built once per machine) with python3-venv and this machine's certificate
authorities (base.Dockerfile); Tarn's own Dockerfile then builds on it with
`--build-arg BASE=...`. Each tag carries a hash of what went into it, so a machine (or CI)
builds each once; Docker's layer cache keeps a rebuild after a code change to seconds.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.docker.images.build import base_tag, build_base, digest, say
from workers.docker.engine import open_engine
from workers.docker.images import image_present

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
REPOSITORY = "tarn-test/tarn"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# What Tarn's Dockerfile copies (its .dockerignore lets only these through).
CONTEXT_FILES = ("Dockerfile", ".dockerignore", "pyproject.toml", "README.md")
CONTEXT_FOLDERS = ("bus", "services", "workers")
BUILD_TIMEOUT_S = 1200


def context_files() -> list[Path]:
    found = [ROOT / name for name in CONTEXT_FILES]
    for folder in CONTEXT_FOLDERS:
        found += [
            path
            for path in sorted((ROOT / folder).rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts
        ]
    return found


def docker_build(context: Path, tag: str, dockerfile: Path, base: str) -> None:
    started = time.monotonic()
    say(f"building {tag} on {base}")
    command = ["docker", "build", "-q", "--force-rm", "-t", tag, "-f", str(dockerfile)]
    command += ["--build-arg", f"BASE={base}", str(context)]
    built = subprocess.run(command, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    if built.returncode != 0:
        raise RuntimeError(f"docker build of {tag} failed:\n{built.stderr[-4000:]}")
    say(f"built {tag} in {time.monotonic() - started:.0f} s")


def present(tag: str) -> bool:
    async def ask() -> bool:
        docker = open_engine()
        try:
            return await image_present(docker, tag)
        finally:
            await docker.close()

    return asyncio.run(ask())


def ensure_debian_base() -> str:
    """The stand-in runtimes' base (debootstrap), built once per machine."""
    tag = base_tag()

    async def build() -> None:
        docker = open_engine()
        try:
            await build_base(docker, tag)
        finally:
            await docker.close()

    if not present(tag):
        asyncio.run(build())
    return tag


def ensure_python_base() -> str:
    """The stand-in for python:3.12-slim: Debian's python3 (3.11) with venv, and Node.js."""
    debian = ensure_debian_base()
    recipe = (HERE / "base.Dockerfile").read_bytes()
    authorities = CA_BUNDLE.read_bytes() if CA_BUNDLE.is_file() else b""
    tag = f"{REPOSITORY}-base:{digest(debian.encode(), recipe, authorities)}"
    if present(tag):
        return tag
    with tempfile.TemporaryDirectory(prefix="tarn-context-") as scratch:
        context = Path(scratch)
        shutil.copy(HERE / "base.Dockerfile", context / "Dockerfile")
        (context / "ca-certificates.crt").write_bytes(authorities)
        docker_build(context, tag, context / "Dockerfile", debian)
    return tag


def ensure_redis() -> str:
    """The stand-in for redis:7: Debian's redis-server on the Debian base."""
    debian = ensure_debian_base()
    recipe = (HERE / "redis.Dockerfile").read_bytes()
    tag = f"tarn-test/redis:{digest(debian.encode(), recipe)}"
    if not present(tag):
        docker_build(HERE, tag, HERE / "redis.Dockerfile", debian)
    return tag


def ensure_image() -> str:
    """Tarn's image built from this checkout on the local base; its tag."""
    base = ensure_python_base()
    files = context_files()
    parts = [base.encode()] + [str(p.relative_to(ROOT)).encode() for p in files]
    tag = f"{REPOSITORY}:{digest(*parts, *(p.read_bytes() for p in files))}"
    if not present(tag):
        docker_build(ROOT, tag, ROOT / "Dockerfile", base)
    return tag


def main() -> None:
    print(ensure_image())
    print(ensure_redis())


if __name__ == "__main__":
    sys.exit(main())
