"""The README's `tarn lambda` blocks run verbatim, in order, against the real stack."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import cli_env
from tests.conftest import Stack

ROOT = Path(__file__).parents[2]
BLOCK = re.compile(r"```sh\n(.*?)```", re.DOTALL)


def tarn_lambda_blocks() -> list[str]:
    blocks = BLOCK.findall((ROOT / "README.md").read_text())
    return [block for block in blocks if "tarn lambda" in block]


def test_the_readmes_tarn_lambda_blocks_run_verbatim(stack: Stack, tmp_path: Path) -> None:
    blocks = tarn_lambda_blocks()
    assert len(blocks) >= 2
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "tarn"  # this checkout's `tarn`, whatever is installed
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m services.cli "$@"\n')
    shim.chmod(0o755)
    env = cli_env(stack.url) | {"PYTHONPATH": str(ROOT)}
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    script = "set -ex\n" + "\n".join(blocks)
    result = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert '{"secret":"my-secret","event":{"hello":"world"}}' in result.stdout
    assert '"from":"stdin"' in result.stdout
