"""Layers in the warm pool: the merged /opt folder on disk, and what runtimes find in it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bus.records import FunctionVersion, LayerCode
from bus.stores import BlobStore
from tests.pool.conftest import Harness, code_zip, running_pool
from tests.pool.test_pool import SHELL_BOOTSTRAP, body
from workers.pool.layers import ensure_opt, merge, opt_key

TOOL = "#!/bin/sh\necho tool from a layer\n"
USES_OPT = """\
import os, subprocess

def handler(event, context):
    tool = subprocess.run(["tool"], capture_output=True, text=True).stdout.strip()
    return {"tool": tool, **{k: os.environ[k] for k in ("PATH", "LD_LIBRARY_PATH", "PYTHONPATH")}}
"""


def tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def write(root: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content)
    return root


def test_merge_overlays_layers_in_order_later_ones_win(tmp_path: Path) -> None:
    first = write(tmp_path / "a", {"python/x.py": "a", "python/only_a.py": "a", "lib/so": "a"})
    second = write(tmp_path / "b", {"python/x.py": "b", "lib/so/inner": "b", "bin/t": "b"})
    third = write(tmp_path / "c", {"lib/so": "c"})
    merge([first, second], tmp_path / "ab")
    assert tree(tmp_path / "ab") == {
        "bin/t": "b",
        "lib/so/inner": "b",
        "python/only_a.py": "a",
        "python/x.py": "b",
    }
    merge([second, third], tmp_path / "bc")  # a file where an earlier layer had a folder
    assert tree(tmp_path / "bc") == {"bin/t": "b", "lib/so": "c", "python/x.py": "b"}
    assert tree(first)["python/x.py"] == "a", "the layers themselves are left as they were"


async def put_layer(harness: Harness, files: dict[str, str], modes: dict[str, int]) -> LayerCode:
    data = code_zip(files, modes)
    sha = BlobStore.digest(data)
    await harness.pool.blobs.put(data, sha)
    return LayerCode(
        arn=f"arn:aws:lambda:us-east-1:123456789012:layer:l:{sha[:6]}",
        code_sha256_hex=sha,
        code_size=len(data),
    )


@pytest.mark.anyio
async def test_one_merge_per_ordered_list_of_layers(redis, tmp_path: Path) -> None:
    async with running_pool(redis, tmp_path) as pool:
        blobs = pool.pool.blobs
        one = await put_layer(pool, {"python/x.py": "1"}, {})
        two = await put_layer(pool, {"python/x.py": "2"}, {})
        code_dir, opt_root = tmp_path / "code", tmp_path / "opt"
        assert await ensure_opt(blobs, code_dir, opt_root, []) is None
        single = await ensure_opt(blobs, code_dir, opt_root, [one])
        assert single == code_dir / one.code_sha256_hex  # one layer is its own merge
        merged = await ensure_opt(blobs, code_dir, opt_root, [one, two])
        assert merged == opt_root / opt_key([one, two])
        assert merged is not None and (merged / "python/x.py").read_text() == "2"
        again = await ensure_opt(blobs, code_dir, opt_root, [two, one])
        assert again is not None and (again / "python/x.py").read_text() == "1"


@pytest.mark.anyio
async def test_layer_bin_and_lib_are_on_the_search_paths(redis, tmp_path: Path) -> None:
    async with running_pool(redis, tmp_path) as pool:
        layer = await put_layer(pool, {"bin/tool": TOOL}, {"bin/tool": 0o755})
        function = await pool.deploy({"app.py": USES_OPT}, layer_code=[layer])
        result = body(await pool.invoke(function))
    opt = tmp_path / "code" / layer.code_sha256_hex
    assert result["tool"] == "tool from a layer"
    assert result["PATH"].endswith(f":{opt}/bin")
    assert result["LD_LIBRARY_PATH"].endswith(f":{opt}/lib")
    assert result["PYTHONPATH"].split(":")[1:] == [
        f"{opt}/python/lib/python3.12/site-packages",
        f"{opt}/python",
    ]


@pytest.mark.skipif(shutil.which("curl") is None, reason="the shell bootstrap needs curl")
@pytest.mark.anyio
async def test_provided_runtime_runs_a_bootstrap_from_a_layer(redis, tmp_path: Path) -> None:
    async with running_pool(redis, tmp_path) as pool:
        layer = await put_layer(pool, {"bootstrap": SHELL_BOOTSTRAP}, {"bootstrap": 0o755})
        function = await pool.deploy(
            {"main.sh": "echo"}, runtime="provided.al2023", handler="h", layer_code=[layer]
        )
        reply = await pool.invoke(function, {"n": 1})
    assert body(reply) == {"shell": True, "event": {"n": 1}, "handler": "h"}


@pytest.mark.anyio
async def test_missing_bootstrap_names_both_places_it_was_looked_for(redis, tmp_path) -> None:
    async with running_pool(redis, tmp_path) as pool:
        layer = await put_layer(pool, {"python/x.py": "1"}, {})
        function: FunctionVersion = await pool.deploy(
            {"main.sh": "echo"}, runtime="provided.al2023", layer_code=[layer]
        )
        reply = await pool.invoke(function)
    code = tmp_path / "code" / function.code_sha256_hex
    opt = tmp_path / "code" / layer.code_sha256_hex
    message = body(reply)["errorMessage"]
    assert message.endswith(
        f"Couldn't find valid bootstrap(s): [{code}/bootstrap {opt}/bootstrap]"
    ), message
