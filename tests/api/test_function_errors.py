"""Every bad input to function management gets AWS's error code, status and message."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from email.message import Message

import pytest
from botocore.exceptions import ClientError

from tests.api.test_functions import ARN_PREFIX, assert_error
from tests.conftest import Stack
from tests.functions import PYTHON_ECHO, ROLE, unique_name, zip_of


def create(client, **overrides):  # type: ignore[no-untyped-def]
    request = {
        "FunctionName": unique_name(),
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "app.handler",
        "Code": {"ZipFile": zip_of({"app.py": PYTHON_ECHO})},
    }
    return client.create_function(**(request | overrides))


def refused(client, **overrides) -> pytest.ExceptionInfo[ClientError]:  # type: ignore[no-untyped-def]
    with pytest.raises(ClientError) as error:
        create(client, **overrides)
    return error


def test_unknown_runtime(lambda_client) -> None:
    error = refused(lambda_client, Runtime="cobol85")
    assert error.value.response["Error"]["Code"] == "InvalidParameterValueException"
    message = error.value.response["Error"]["Message"]
    assert message.startswith(
        "Value cobol85 at 'runtime' failed to satisfy constraint: Member must satisfy enum "
        "value set: [nodejs, "
    )
    assert message.endswith("] or be a valid ARN")


def test_deprecated_runtime(lambda_client) -> None:
    error = refused(lambda_client, Runtime="python3.7")
    assert_error(
        error,
        "InvalidParameterValueException",
        400,
        "The runtime parameter of python3.7 is no longer supported for creating or "
        "updating AWS Lambda functions. We recommend you use the new runtime (python3.13) "
        "while creating or updating functions.",
    )


def test_role_not_matching_the_pattern(lambda_client) -> None:
    error = refused(lambda_client, Role="lambda-role")
    assert_error(
        error,
        "ValidationException",
        400,
        "1 validation error detected: Value 'lambda-role' at 'role' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: "
        r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+",
    )


def test_timeout_over_900(lambda_client) -> None:
    error = refused(lambda_client, Timeout=901)
    assert_error(
        error,
        "ValidationException",
        400,
        "1 validation error detected: Value '901' at 'timeout' failed to satisfy "
        "constraint: Member must have value less than or equal to 900",
    )


@pytest.mark.parametrize(
    ("memory", "rule"),
    [(64, "greater than or equal to 128"), (10241, "less than or equal to 10240")],
)
def test_memory_size_outside_128_to_10240(unchecked_client, memory: int, rule: str) -> None:
    error = refused(unchecked_client, MemorySize=memory)
    assert_error(
        error,
        "ValidationException",
        400,
        f"1 validation error detected: Value '{memory}' at 'memorySize' failed to "
        f"satisfy constraint: Member must have value {rule}",
    )


def test_several_violations_are_reported_together(lambda_client) -> None:
    error = refused(lambda_client, Timeout=901, Role="r")
    message = error.value.response["Error"]["Message"]
    assert message.startswith("2 validation errors detected: ")
    assert "at 'role'" in message and "at 'timeout'" in message


def test_environment_over_4kb(lambda_client) -> None:
    variables = {"BIG": "x" * 4090}
    error = refused(lambda_client, Environment={"Variables": variables})
    assert_error(
        error,
        "InvalidParameterValueException",
        400,
        "Lambda was unable to configure your environment variables because the "
        "environment variables you have provided exceeded the 4KB limit. String "
        f"measured: {json.dumps(variables, separators=(',', ':'))}",
    )


def test_reserved_environment_variable(lambda_client) -> None:
    error = refused(lambda_client, Environment={"Variables": {"AWS_REGION": "eu-west-1"}})
    assert_error(
        error,
        "InvalidParameterValueException",
        400,
        "Lambda was unable to configure your environment variables because the "
        "environment variables you have provided contains reserved keys that are "
        "currently not supported for modification. Reserved keys used in this "
        "request: AWS_REGION",
    )


UNZIP_MESSAGE = "Could not unzip uploaded file. Please check your file, then try to upload again."


def test_body_that_is_not_a_zip(lambda_client) -> None:
    error = refused(lambda_client, Code={"ZipFile": b"definitely not a zip"})
    assert_error(error, "InvalidParameterValueException", 400, UNZIP_MESSAGE)


def test_zip_entry_escaping_the_root(lambda_client) -> None:
    package = zip_of({"app.py": PYTHON_ECHO, "../evil.py": "x = 1\n"})
    error = refused(lambda_client, Code={"ZipFile": package})
    assert_error(error, "InvalidParameterValueException", 400, UNZIP_MESSAGE)


def test_unzipped_size_over_250_mb(lambda_client) -> None:
    package = zip_of({"app.py": PYTHON_ECHO, "zeros.bin": bytes(262_144_001)})
    error = refused(lambda_client, Code={"ZipFile": package})
    assert_error(
        error,
        "InvalidParameterValueException",
        400,
        "Unzipped size must be smaller than 262144000 bytes",
    )


def test_zipped_size_over_50_mb(lambda_client) -> None:
    package = zip_of({"noise.bin": os.urandom(53_000_000)})
    error = refused(lambda_client, Code={"ZipFile": package})
    response = error.value.response
    assert response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert response["Error"]["Message"] == (
        "Request must be smaller than 70167211 bytes for the CreateFunction operation"
    )


def test_duplicate_name(lambda_client) -> None:
    name = unique_name()
    create(lambda_client, FunctionName=name)
    error = refused(lambda_client, FunctionName=name)
    assert_error(error, "ResourceConflictException", 409, f"Function already exist: {name}")


@pytest.mark.parametrize("call", ["get_function", "get_function_configuration", "delete_function"])
def test_missing_function(lambda_client, call: str) -> None:
    name = unique_name("missing")
    with pytest.raises(ClientError) as error:
        getattr(lambda_client, call)(FunctionName=name)
    assert_error(error, "ResourceNotFoundException", 404, f"Function not found: {ARN_PREFIX}{name}")


def test_missing_function_on_update(lambda_client) -> None:
    name = unique_name("missing")
    with pytest.raises(ClientError) as error:
        lambda_client.update_function_configuration(FunctionName=name, Timeout=5)
    assert_error(error, "ResourceNotFoundException", 404, f"Function not found: {ARN_PREFIX}{name}")


def test_invalid_function_name(lambda_client) -> None:
    error = refused(lambda_client, FunctionName="has spaces")
    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert (
        "at 'functionName' failed to satisfy constraint" in error.value.response["Error"]["Message"]
    )


def raw_request(stack: Stack, method: str, path: str, body: bytes) -> tuple[int, Message, dict]:  # type: ignore[type-arg]
    request = urllib.request.Request(stack.url + path, data=body, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.load(error)


def test_malformed_json_is_invalid_request_content(stack: Stack) -> None:
    status, headers, body = raw_request(stack, "POST", "/2015-03-31/functions", b"{not json")
    assert status == 400
    assert headers["X-Amzn-ErrorType"] == "InvalidRequestContentException"
    assert body["message"].startswith("Could not parse request body into json")


def test_member_of_the_wrong_type_is_invalid_request_content(stack: Stack) -> None:
    body = json.dumps({"FunctionName": unique_name(), "Timeout": "soon"}).encode()
    status, headers, _ = raw_request(stack, "POST", "/2015-03-31/functions", body)
    assert status == 400
    assert headers["X-Amzn-ErrorType"] == "InvalidRequestContentException"


def test_unknown_fields_are_ignored(stack: Stack) -> None:
    import base64

    name = unique_name()
    request = {
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "app.handler",
        "Code": {"ZipFile": base64.b64encode(zip_of({"app.py": PYTHON_ECHO})).decode()},
        "NoSuchMember": {"nested": [1, 2]},
    }
    status, _, body = raw_request(
        stack, "POST", "/2015-03-31/functions", json.dumps(request).encode()
    )
    assert status == 201
    assert body["FunctionName"] == name


def test_unknown_path_is_not_a_500(stack: Stack) -> None:
    status, headers, _ = raw_request(stack, "GET", "/2015-03-31/nothing-here", b"")
    assert status == 404
    assert headers["X-Amzn-ErrorType"] == "UnknownOperationException"
