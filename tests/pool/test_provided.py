"""Go and Rust on provided.al2023/al2: real `bootstrap` binaries built here with this machine's
toolchains (standard libraries only), in the zip or in a layer, on the process executor."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from bus.records import LayerCode
from bus.stores import BlobStore
from tests.conftest import RUNTIMES_DIR
from tests.pool.conftest import Harness, code_zip, running_pool
from tests.pool.runtime_checks import body, check_init_error, check_invocations, check_timeout

pytestmark = pytest.mark.anyio

SOURCES = Path(__file__).resolve().parent / "provided"
BUILDS = {
    "go": ("main.go", "go"),
    "rust": ("main.rs", "rustc"),
}


def build(language: str) -> bytes:
    """The language's bootstrap binary, built once per source (cached by its hash)."""
    source_name, tool = BUILDS[language]
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed: cannot build the {language} bootstrap")
    source = SOURCES / source_name
    binary = (
        RUNTIMES_DIR
        / f"test-bootstrap-{language}-{hashlib.sha256(source.read_bytes()).hexdigest()[:12]}"
    )
    if not binary.is_file():
        RUNTIMES_DIR.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=RUNTIMES_DIR) as scratch:
            out = Path(scratch) / "bootstrap"
            if language == "go":
                env = os.environ | {"GO111MODULE": "off", "CGO_ENABLED": "0"}
                command = ["go", "build", "-o", str(out), str(source)]
            else:
                env = dict(os.environ)
                command = ["rustc", "-O", "-o", str(out), str(source)]
            subprocess.run(command, check=True, env=env, cwd=scratch)
            out.rename(binary)
    return binary.read_bytes()


async def put_layer(
    pool: Harness, files: dict[str, str | bytes], modes: dict[str, int]
) -> LayerCode:
    data = code_zip(files, modes)
    sha = BlobStore.digest(data)
    await pool.pool.blobs.put(data, sha)
    arn = f"arn:aws:lambda:us-east-1:123456789012:layer:bootstrap:{sha[:6]}"
    return LayerCode(arn=arn, code_sha256_hex=sha, code_size=len(data))


@pytest.mark.slow  # the first build on a machine compiles Go's standard library (~40 s)
@pytest.mark.parametrize("language", ["go", "rust"])
async def test_bootstrap_binary_in_the_zip(redis, tmp_path, language):
    binary = build(language)
    async with running_pool(redis, tmp_path) as pool:
        function = await pool.deploy(
            {"bootstrap": binary},
            modes={"bootstrap": 0o755},
            runtime="provided.al2023",
            handler="unused",
            environment={"GREETING": "hi"},
        )
        await check_invocations(pool, function)
        context = body(await pool.invoke(function, {"action": "context"}))
        broken = await pool.deploy(
            {"bootstrap": binary},
            modes={"bootstrap": 0o755},
            runtime="provided.al2023",
            environment={"TARN_TEST_INIT_FAIL": "1"},
        )
        await check_init_error(pool, broken)
        slow = await pool.deploy(
            {"bootstrap": binary}, modes={"bootstrap": 0o755}, runtime="provided.al2", timeout_s=1
        )
        await check_timeout(pool, slow)
    assert context["language"] == language


@pytest.mark.parametrize("language", ["go", "rust"])
async def test_bootstrap_binary_in_a_layer(redis, tmp_path, language):
    binary = build(language)
    async with running_pool(redis, tmp_path) as pool:
        layer = await put_layer(pool, {"bootstrap": binary}, {"bootstrap": 0o755})
        function = await pool.deploy(
            {"README": "code in the layer"}, runtime="provided.al2023", layer_code=[layer]
        )
        reply = await pool.invoke(function, {"from": "layer"})
    assert body(reply) == {"from": "layer"}
