"""Responses as AWS sends them: error body casing per code, x-amzn-RequestId, validation
messages, and ARNs of another region or account refused (AWS-recorded references)."""

from __future__ import annotations

import base64
import json

import pytest
from botocore.exceptions import ClientError

from tests.api.test_function_errors import create, raw_request
from tests.api.test_functions import assert_error
from tests.conftest import Stack
from tests.functions import ROLE, unique_name, zip_of

NAME_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)
QUALIFIER_RULE = "Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)"


def test_invalid_parameter_value_body_has_lower_case_message(stack: Stack) -> None:
    request = {"FunctionName": "x", "Runtime": "python0.1", "Role": ROLE, "Handler": "a.b"}
    request["Code"] = {"ZipFile": base64.b64encode(zip_of({"a.py": ""})).decode()}
    status, headers, body = raw_request(
        stack, "POST", "/2015-03-31/functions", json.dumps(request).encode()
    )
    assert status == 400
    assert headers["X-Amzn-ErrorType"] == "InvalidParameterValueException"
    assert set(body) == {"Type", "message"}
    assert body["Type"] == "User"


def test_resource_not_found_body_has_capitalised_message(stack: Stack) -> None:
    status, headers, body = raw_request(stack, "GET", "/2015-03-31/functions/nope-x", b"")
    assert status == 404
    assert body == {
        "Type": "User",
        "Message": "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope-x",
    }
    assert headers["x-amzn-RequestId"]


def test_every_response_has_a_fresh_request_id(stack: Stack) -> None:
    first = raw_request(stack, "GET", "/2015-03-31/functions", b"")[1]["x-amzn-RequestId"]
    second = raw_request(stack, "GET", "/2015-03-31/functions", b"")[1]["x-amzn-RequestId"]
    assert first and second and first != second


def test_function_name_pattern_is_awss_current_one(lambda_client) -> None:
    with pytest.raises(ClientError) as error:
        lambda_client.get_function(FunctionName="bad name!")
    assert_error(
        error,
        "ValidationException",
        400,
        "1 validation error detected: Value 'bad name!' at 'functionName' failed to satisfy "
        f"constraint: Member must satisfy regular expression pattern: {NAME_PATTERN}",
    )


def test_bad_qualifier_counts_every_violation(unchecked_client) -> None:
    qualifier = "invalid!" * 17
    with pytest.raises(ClientError) as error:
        unchecked_client.get_function(FunctionName="some-function", Qualifier=qualifier)
    assert_error(
        error,
        "ValidationException",
        400,
        f"2 validation errors detected: Value '{qualifier}' at 'qualifier' failed to satisfy "
        "constraint: Member must have length less than or equal to 128; "
        f"Value '{qualifier}' at 'qualifier' failed to satisfy constraint: {QUALIFIER_RULE}",
    )


def test_function_of_another_region_is_not_reachable(lambda_client) -> None:
    name = unique_name()
    create(lambda_client, FunctionName=name)
    arn = f"arn:aws:lambda:eu-central-1:000000000000:function:{name}"
    for call in (lambda_client.get_function, lambda_client.delete_function):
        with pytest.raises(ClientError) as error:
            call(FunctionName=arn)
        assert_error(
            error,
            "ResourceNotFoundException",
            404,
            "Functions from 'eu-central-1' are not reachable in this region ('us-east-1')",
        )
    assert lambda_client.get_function(FunctionName=name)["Configuration"]["FunctionName"] == name


def test_function_of_another_account_is_refused(lambda_client) -> None:
    name = unique_name()
    create(lambda_client, FunctionName=name)
    arn = f"arn:aws:lambda:us-east-1:111111111111:function:{name}"
    with pytest.raises(ClientError) as error:
        lambda_client.delete_function(FunctionName=arn)
    assert error.value.response["Error"]["Code"] == "AccessDeniedException"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert lambda_client.get_function(FunctionName=name)["Configuration"]["FunctionName"] == name


def test_create_with_publish_answers_version_1_under_the_unqualified_arn(lambda_client) -> None:
    name = unique_name()
    response = create(lambda_client, FunctionName=name, Publish=True)
    assert response["Version"] == "1"
    assert response["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert response["State"] == "Pending"


def test_revision_id_changes_when_the_function_becomes_active(lambda_client) -> None:
    name = unique_name()
    created = create(lambda_client, FunctionName=name)
    lambda_client.get_waiter("function_active_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    active = lambda_client.get_function_configuration(FunctionName=name)
    assert active["State"] == "Active"
    assert active["RevisionId"] != created["RevisionId"]
    updated = lambda_client.update_function_configuration(FunctionName=name, Timeout=5)
    assert updated["LastUpdateStatus"] == "InProgress"
    lambda_client.get_waiter("function_updated_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    settled = lambda_client.get_function_configuration(FunctionName=name)
    assert settled["LastUpdateStatus"] == "Successful"
    assert settled["RevisionId"] != updated["RevisionId"]


def test_version_published_by_an_update_starts_pending(lambda_client) -> None:
    name = unique_name()
    create(lambda_client, FunctionName=name)
    lambda_client.get_waiter("function_active_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    published = lambda_client.update_function_code(
        FunctionName=name,
        ZipFile=zip_of({"app.py": "def handler(e, c):\n    return 2\n"}),
        Publish=True,
    )
    assert published["Version"] == "1"
    assert published["State"] == "Pending"
