"""The README's examples, run verbatim against a real stack: every ```python block with the
Python running the tests, every ```sh block with bash, in order, in one scratch folder.

Only the endpoint changes: http://127.0.0.1:4566 becomes the test stack's URL. The Terraform
section (```hcl and its ```console commands) is run by tests/terraform with the same HCL.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Stack

README = Path(__file__).resolve().parents[2] / "README.md"
ENDPOINT = "http://127.0.0.1:4566"
BLOCK = re.compile(r"^```(python|sh)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
BLOCK_TIMEOUT_S = 120


def blocks() -> list[tuple[str, str]]:
    """(language, code) of each runnable block, in README order."""
    return [(m[1], m[2]) for m in BLOCK.finditer(README.read_text())]


def test_the_readme_has_runnable_examples() -> None:
    languages = {language for language, _ in blocks()}
    assert languages == {"python", "sh"}, "the README's Python and shell examples are gone"


def test_every_readme_example_runs_against_a_stack(stack: Stack, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TARN_"))}
    env["TARN_ENDPOINT"] = stack.url
    for number, (language, code) in enumerate(blocks(), 1):
        code = code.replace(ENDPOINT, stack.url)
        argv = [sys.executable, "-c", code] if language == "python" else ["bash", "-euc", code]
        done = subprocess.run(
            argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=BLOCK_TIMEOUT_S
        )
        if done.returncode != 0:
            pytest.fail(
                f"README block {number} ({language}) failed with exit {done.returncode}:\n"
                f"{code}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
            )
