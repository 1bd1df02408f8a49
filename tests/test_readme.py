"""The README's examples, run verbatim against a real stack, as a user types them into one
terminal: every ```sh block, and every ```python block (as `python3 - <<'PY'`), in order, in
one bash session in a scratch folder, with this checkout's `tarn` first on PATH.

Only the endpoint changes: http://127.0.0.1:4566 becomes the test stack's URL. The Terraform
section (```hcl and its ```console commands) is not run here: tests/terraform applies its
resources (hcl/docs_example.tf) on a provider block of its own.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import cli_env
from tests.conftest import Stack

ROOT = Path(__file__).resolve().parents[1]
ENDPOINT = "http://127.0.0.1:4566"
BLOCK = re.compile(r"^```(python|sh)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def readme_script() -> str:
    """The README's runnable blocks as one bash script that stops at the first failure."""
    steps = ["set -euxo pipefail"]
    for language, code in BLOCK.findall((ROOT / "README.md").read_text()):
        steps.append(code if language == "sh" else f"python3 - <<'PY'\n{code}PY")
    return "\n".join(steps)


def test_the_readme_has_python_sh_and_tarn_lambda_examples() -> None:
    languages = {language for language, _ in BLOCK.findall((ROOT / "README.md").read_text())}
    assert languages == {"python", "sh"}
    assert readme_script().count("tarn lambda ") >= 10


def test_every_readme_example_runs_against_a_stack(stack: Stack, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "tarn"  # this checkout's `tarn`, whatever else is installed
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m services.cli "$@"\n')
    shim.chmod(0o755)
    env = cli_env(stack.url) | {"PYTHONPATH": str(ROOT)}
    env["PATH"] = f"{bin_dir}:{Path(sys.executable).parent}:{env['PATH']}"
    work = tmp_path / "work"
    work.mkdir()
    script = readme_script().replace(ENDPOINT, stack.url)
    done = subprocess.run(
        ["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-5000:]}"
    assert '{"secret":"my-secret","event":{"hello":"world"}}' in done.stdout
    assert '"from":"stdin"' in done.stdout
    assert 'b\'{"hello": "tarn"}\'' in done.stdout  # the boto3 example's print
    assert (work / "my-function" / "out.json").read_text() == '{"hello": "tarn"}'
