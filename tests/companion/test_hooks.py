"""The companion's hooks against the installed moto, and a Lambda request that reaches the
companion's own port: Tarn answers it, not moto's Lambda backend."""

from __future__ import annotations

import inspect
import re
import tomllib
import urllib.request
from pathlib import Path

import boto3
import moto

from services.companion.hooks import hooked
from tests.conftest import Stack
from tests.functions import create_python_function, function_names, unique_name

PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"


def companion_url(stack: Stack) -> str:
    match = re.search(r"companion: (http://127\.0\.0\.1:\d+)\)", stack.log_path.read_text())
    assert match, "tarn up's ready line names the companion"
    return match.group(1)


def test_every_hooked_moto_attribute_exists_with_the_parameters_the_hooks_use() -> None:
    for owner, attribute, parameters in hooked():
        original = getattr(owner, attribute, None)
        assert original is not None, f"moto {moto.__version__} has no {owner}.{attribute}"
        found = tuple(inspect.signature(original).parameters)
        assert found[: len(parameters)] == parameters, f"{owner}.{attribute}{found}"


def test_moto_is_pinned_to_the_major_version_the_hooks_were_written_for() -> None:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    (pin,) = [d for d in dependencies if d.startswith("moto")]
    assert "<6" in pin
    assert moto.__version__.split(".")[0] == "5"


def test_a_lambda_request_at_the_companion_is_answered_by_tarn(stack: Stack) -> None:
    name = unique_name()
    create_python_function(stack.client(), name)
    companion = boto3.client(
        "lambda",
        endpoint_url=companion_url(stack),
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    assert name in function_names(companion)
    assert companion.invoke(FunctionName=name, Payload=b'{"a": 1}')["Payload"].read() == b'{"a": 1}'


def test_a_forwarded_answer_has_one_date_header(stack: Stack) -> None:
    """Two (the companion's and the endpoint's) read as one unparsable date to the JavaScript
    SDK, which then signs nothing more: the CDK CLI failed so."""
    scope = "Credential=test/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=x"
    request = urllib.request.Request(
        f"{stack.url}/?Action=ListQueues", headers={"Authorization": f"AWS4-HMAC-SHA256 {scope}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert len(response.headers.get_all("Date")) == 1
        assert len(response.headers.get_all("Server")) == 1
