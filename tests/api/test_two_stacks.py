"""Two stacks on one machine (process executor): each function reaches its own stack's
Parameters and Secrets extension, never the other's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import start_stack, stop_stack
from tests.functions import create_python_function, unique_name

READ_SECRET = """\
import json, os, urllib.request
def handler(event, context):
    port = os.environ["PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"]
    url = f"http://localhost:{port}/secretsmanager/get?secretId=shared-name"
    token = {"X-Aws-Parameters-Secrets-Token": os.environ["AWS_SESSION_TOKEN"]}
    with urllib.request.urlopen(urllib.request.Request(url, headers=token), timeout=10) as r:
        return json.load(r)["SecretString"]
"""


@pytest.mark.slow
def test_two_stacks_each_read_their_own_secret(tmp_path: Path) -> None:
    stacks = []
    try:
        for which in ("first", "second"):
            stacks.append(start_stack(tmp_path / which, tmp_path / f"{which}.log"))
        for which, stack in zip(("first", "second"), stacks, strict=True):
            stack.client("secretsmanager").create_secret(Name="shared-name", SecretString=which)
        for which, stack in zip(("first", "second"), stacks, strict=True):
            client = stack.client()
            name = unique_name()
            create_python_function(client, name, READ_SECRET)
            answer = client.invoke(FunctionName=name)
            assert json.loads(answer["Payload"].read()) == which, answer.get("FunctionError")
        told = (tmp_path / "second.log").read_text() + (tmp_path / "first.log").read_text()
        assert "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT" in told  # 2773 was the other one's
    finally:
        for stack in stacks:
            stop_stack(stack)
