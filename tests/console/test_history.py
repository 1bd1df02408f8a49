"""`tarn lambda history`: a function's recent invocations from the invocation records."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import cli_env, run_tarn
from tests.conftest import Stack
from tests.console.records import FAILING, wait_for_records
from tests.functions import create_python_function, unique_name


def test_history_lists_a_functions_invocations_newest_first(stack: Stack, tmp_path: Path) -> None:
    client, name = stack.client(), unique_name()
    create_python_function(client, name, FAILING)
    for n in range(2):
        client.invoke(FunctionName=name, Payload=json.dumps({"id": n}).encode())
    wait_for_records(stack, name, 2)

    def tarn(*args: str) -> str:
        argv = ["lambda", "history", "--name", name, *args]
        done = run_tarn(argv, cwd=tmp_path, env=cli_env(stack.url))
        assert done.returncode == 0, done.stderr
        return done.stdout

    lines = [json.loads(line) for line in tarn("--output", "json").splitlines()]
    assert [r["outcome"] for r in lines] == ["error", "error"]
    assert {r["error_type"] for r in lines} == {"RuntimeError"}
    table = tarn()
    assert table.count("error (RuntimeError)") == 2 and lines[0]["request_id"] in table
    assert "attempt for 1" in tarn("--log", "--limit", "1")
    assert tarn("--outcome", "success", "--output", "json") == ""
