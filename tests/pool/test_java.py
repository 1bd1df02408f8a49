"""Java functions on the process executor: Tarn's own runtime client (runtimes/java) on this
machine's JDK, with handlers compiled here against aws-lambda-java-core's interfaces (stand-ins
in tests/pool/java/core, packed into the function's lib/ as a user's build packs the real one)."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import pytest

from tests.conftest import RUNTIMES_DIR
from tests.pool.conftest import running_pool
from tests.pool.runtime_checks import (
    body,
    check_init_error,
    check_invocations,
    check_timeout,
    log_tail,
    prepare,
)
from workers.pool.interpreters import java_version

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(shutil.which("javac") is None, reason="no JDK (javac) is installed"),
]

SOURCES = Path(__file__).resolve().parent / "java"


def compiled() -> Path:
    """The test functions' classes (core/ and function/), compiled once per content."""
    files = sorted(SOURCES.rglob("*.java"))
    hashed = hashlib.sha256(java_version().encode())
    for source in files:
        hashed.update(source.relative_to(SOURCES).as_posix().encode() + source.read_bytes())
    out = RUNTIMES_DIR / f"test-java-functions-{hashed.hexdigest()[:12]}"
    if out.is_dir():
        return out
    RUNTIMES_DIR.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=RUNTIMES_DIR, prefix=".test-java-"))
    core = [str(f) for f in files if "core" in f.relative_to(SOURCES).parts[:1]]
    function = [str(f) for f in files if "function" in f.relative_to(SOURCES).parts[:1]]
    subprocess.run(["javac", "-nowarn", "-d", str(scratch / "core"), *core], check=True)
    cp = str(scratch / "core")
    subprocess.run(
        ["javac", "-nowarn", "-cp", cp, "-d", str(scratch / "function"), *function], check=True
    )
    try:
        scratch.rename(out)
    except OSError:
        shutil.rmtree(scratch, ignore_errors=True)
    return out


def tree(folder: Path, prefix: str = "") -> dict[str, str | bytes]:
    return {
        prefix + p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.class")
    }


def jar(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def classes() -> Path:
    return compiled()


def lib_layout(classes: Path) -> dict[str, str | bytes]:
    """Classes at the root and aws-lambda-java-core as lib/*.jar (Gradle's buildZip layout)."""
    return tree(classes / "function") | {
        "lib/aws-lambda-java-core.jar": jar(tree(classes / "core"))
    }


async def test_java_request_handler_echoes_gives_context_and_errors_as_aws(
    redis, tmp_path, classes
):
    await prepare("java21")
    async with running_pool(redis, tmp_path) as pool:
        function = await pool.deploy(
            lib_layout(classes),
            runtime="java21",
            handler="example.Handler",
            environment={"GREETING": "hi"},
        )
        logged = await pool.invoke(function, {"a": 1})  # the first: its log has the init's
        await check_invocations(pool, function)
        failed = await pool.invoke(function, {"action": "raise"})
    error = body(failed)
    assert error["errorType"] == "java.lang.IllegalArgumentException"
    assert error["stackTrace"][0].startswith("example.Handler.handleRequest(Handler.java:")
    assert "java.lang.IllegalArgumentException: bad input" in log_tail(failed)
    assert "handled 1 keys" in log_tail(logged)
    if java_version() != "21":  # labelled honestly
        assert f"java21 runs on this machine's JDK {java_version()}" in log_tail(logged)


async def test_java_plain_methods_take_pojos_strings_and_streams(redis, tmp_path, classes):
    await prepare("java17")
    # A fat jar's layout: every class at the root of the zip.
    files = tree(classes / "function") | tree(classes / "core")
    async with running_pool(redis, tmp_path) as pool:
        greet = await pool.deploy(files, runtime="java17", handler="example.Greeter::greet")
        shout = await pool.deploy(files, runtime="java17", handler="example.Greeter::shout")
        stream = await pool.deploy(files, runtime="java17", handler="example.Greeter::stream")
        greeting = body(await pool.invoke(greet, {"name": "ada", "tags": ["x"], "extra": 1}))
        shouted = body(await pool.invoke(shout, "quiet"))
        streamed = body(await pool.invoke(stream, {"n": 1}))
    assert greeting == {
        "length": len(greeting["message"]),
        "message": f"hello ada [x] from {greet.name}",
    }
    assert shouted == "QUIET"
    assert streamed == {"streamed": {"n": 1}}


async def test_java_init_errors_and_timeout(redis, tmp_path, classes):
    await prepare("java17")
    async with running_pool(redis, tmp_path) as pool:
        broken = await pool.deploy(
            lib_layout(classes),
            runtime="java17",
            handler="example.Handler",
            environment={"TARN_TEST_INIT_FAIL": "1"},
        )
        error = await check_init_error(pool, broken)
        missing = await pool.deploy(lib_layout(classes), runtime="java17", handler="example.Nope")
        not_found = body(await pool.invoke(missing))
        slow = await pool.deploy(
            lib_layout(classes), runtime="java17", handler="example.Handler", timeout_s=2
        )
        await check_timeout(pool, slow)
    assert error["errorType"] == "java.lang.IllegalStateException"
    assert not_found == {
        "errorMessage": "Class not found: example.Nope",
        "errorType": "java.lang.ClassNotFoundException",
        "stackTrace": not_found["stackTrace"],
        "cause": not_found["cause"],
    }
