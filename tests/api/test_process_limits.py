"""The process executor's limits: MemorySize is enforced as Lambda enforces it."""

from __future__ import annotations

import json

from tests.functions import create_python_function, unique_name

ALLOCATING = """\
def handler(event, context):
    held = b"x" * (event["mb"] << 20)  # written, so resident
    return len(held) >> 20
"""


def test_a_function_over_its_memory_size_is_killed_as_lambda_kills_it(lambda_client) -> None:  # type: ignore[no-untyped-def]
    name = unique_name()
    create_python_function(lambda_client, name, ALLOCATING, MemorySize=128)
    fits = lambda_client.invoke(FunctionName=name, Payload=b'{"mb": 40}')
    assert json.loads(fits["Payload"].read()) == 40
    over = lambda_client.invoke(FunctionName=name, Payload=b'{"mb": 600}')
    assert over["FunctionError"] == "Unhandled"
    error = json.loads(over["Payload"].read())
    assert error["errorType"] == "Runtime.ExitError"
    assert error["errorMessage"].endswith("Runtime exited with error: signal: killed")
    again = lambda_client.invoke(FunctionName=name, Payload=b'{"mb": 40}')
    assert json.loads(again["Payload"].read()) == 40
