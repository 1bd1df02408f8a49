"""Every operation in botocore's Lambda model is routed: served, or refused with an error
that names it, never UnknownOperationException."""

from __future__ import annotations

import re
import urllib.parse

import botocore.session
import pytest
import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from services.operations import operation_named

MODEL = botocore.session.get_session().get_service_model("lambda")
DUMMY = {
    "FunctionName": "tarn-missing-fn",
    "CodeSigningConfigArn": (
        "arn:aws:lambda:us-east-1:000000000000:code-signing-config:csc-0123456789abcdef0"
    ),
    "DurableExecutionArn": (
        "arn:aws:lambda:us-east-1:000000000000:function:f:1/durable-execution/a/b"
    ),
    "Resource": "arn:aws:lambda:us-east-1:000000000000:function:tarn-missing-fn",
    "VersionNumber": "1",
}


def request_uri(operation: str) -> str:
    """The model's requestUri with dummy values for its path parameters."""
    uri = MODEL.operation_model(operation).http["requestUri"]
    path, _, query = uri.partition("?")
    path = re.sub(
        r"\{(\w+)\+?\}",
        lambda m: urllib3.util.parse_url("/" + DUMMY.get(m[1], "x1")).path[1:],  # type: ignore[index]
        path,
    )
    path = path.replace(":", "%3A")
    return f"{path}?{query}" if query else path


@pytest.mark.parametrize("operation", MODEL.operation_names)
def test_operation_is_routed(stack, operation: str) -> None:  # type: ignore[no-untyped-def]
    http = MODEL.operation_model(operation).http
    request = AWSRequest(method=http["method"], url=stack.url + request_uri(operation), data=b"{}")
    SigV4Auth(Credentials("test", "test"), "lambda", "us-east-1").add_auth(request)
    response = urllib3.request(
        http["method"],
        request.url,
        body=b"{}",
        headers=dict(request.headers.items()),
        timeout=30,
        retries=False,
    )
    error = response.headers.get("X-Amzn-ErrorType", "")
    assert error != "UnknownOperationException", f"{operation} {http} -> {response.data!r}"
    assert response.status < 500, f"{operation} {http} -> {response.status} {response.data!r}"


@pytest.mark.parametrize("operation", MODEL.operation_names)
def test_a_request_is_named_after_its_operation(operation: str) -> None:
    """An operation no blueprint serves (one a newer botocore adds) is refused by its name;
    where only the query tells two operations apart, either name will do."""
    http = MODEL.operation_model(operation).http
    path = urllib.parse.unquote(request_uri(operation).partition("?")[0])
    named = operation_named(http["method"], path)
    assert named is not None
    assert named == operation or _template(named) == _template(operation)


def _template(operation: str) -> tuple[str, str]:
    http = MODEL.operation_model(operation).http
    return http["method"], http["requestUri"].partition("?")[0]
