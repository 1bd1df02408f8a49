"""Function URL configs through boto3 against the running stack: create, get, update, list
and delete per function and alias, with AWS's errors."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from tests.api.test_functions import ARN_PREFIX, assert_error
from tests.functions import create_python_function, unique_name

URL = re.compile(r"http://[a-z0-9]{32}\.lambda-url\.us-east-1\.localhost:\d+/")
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
CORS = {"AllowOrigins": ["https://example.com"], "AllowMethods": ["GET"], "MaxAge": 60}


@pytest.fixture
def function(lambda_client) -> str:  # type: ignore[no-untyped-def]
    name = unique_name("url")
    create_python_function(lambda_client, name, Publish=True)
    lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    return name


def test_create_get_update_list_and_delete(lambda_client, function) -> None:
    created = lambda_client.create_function_url_config(FunctionName=function, AuthType="NONE")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert URL.fullmatch(created["FunctionUrl"])
    assert created["FunctionArn"] == ARN_PREFIX + function
    assert created["AuthType"] == "NONE"
    assert created["InvokeMode"] == "BUFFERED"
    assert TIME.fullmatch(created["CreationTime"])
    assert "Cors" not in created and "LastModifiedTime" not in created
    got = lambda_client.get_function_url_config(FunctionName=function)
    assert got["FunctionUrl"] == created["FunctionUrl"]
    assert got["LastModifiedTime"] == got["CreationTime"]

    updated = lambda_client.update_function_url_config(
        FunctionName=function, AuthType="AWS_IAM", Cors=CORS, InvokeMode="RESPONSE_STREAM"
    )
    assert updated["AuthType"] == "AWS_IAM"
    assert updated["Cors"] == CORS
    assert updated["InvokeMode"] == "RESPONSE_STREAM"
    assert updated["CreationTime"] == created["CreationTime"]

    aliased = lambda_client.create_function_url_config(
        FunctionName=function, Qualifier="live", AuthType="NONE"
    )
    assert aliased["FunctionArn"] == f"{ARN_PREFIX}{function}:live"
    assert aliased["FunctionUrl"] != created["FunctionUrl"]
    listed = lambda_client.list_function_url_configs(FunctionName=function, MaxItems=1)
    assert [c["FunctionArn"] for c in listed["FunctionUrlConfigs"]] == [ARN_PREFIX + function]
    rest = lambda_client.list_function_url_configs(
        FunctionName=function, Marker=listed["NextMarker"]
    )
    assert [c["FunctionArn"] for c in rest["FunctionUrlConfigs"]] == [aliased["FunctionArn"]]
    assert "NextMarker" not in rest

    deleted = lambda_client.delete_function_url_config(FunctionName=function)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as error:
        lambda_client.get_function_url_config(FunctionName=function)
    assert_error(
        error, "ResourceNotFoundException", 404, "The resource you requested does not exist."
    )


def test_second_url_config_is_a_conflict(lambda_client, function) -> None:
    lambda_client.create_function_url_config(FunctionName=function, AuthType="NONE")
    with pytest.raises(ClientError) as error:
        lambda_client.create_function_url_config(FunctionName=function, AuthType="NONE")
    assert_error(
        error,
        "ResourceConflictException",
        409,
        f"Failed to create function url config for [functionArn = {ARN_PREFIX}{function}]. "
        "Error message:  FunctionUrlConfig exists for this Lambda function",
    )


def test_url_config_errors_as_aws_sends_them(lambda_client, unchecked_client, function) -> None:
    with pytest.raises(ClientError) as error:
        lambda_client.create_function_url_config(
            FunctionName=function, Qualifier="1", AuthType="NONE"
        )
    assert_error(
        error,
        "ValidationException",
        400,
        "1 validation error detected: Value '1' at 'qualifier' failed to satisfy constraint: "
        r"Member must satisfy regular expression pattern: ((?!^\d+$)^[0-9a-zA-Z-_]+$)",
    )
    with pytest.raises(ClientError) as error:
        lambda_client.create_function_url_config(
            FunctionName=function, Qualifier="nope", AuthType="NONE"
        )
    assert_error(error, "ResourceNotFoundException", 404, "Function does not exist")
    with pytest.raises(ClientError) as error:
        lambda_client.update_function_url_config(FunctionName=function, AuthType="NONE")
    assert_error(
        error, "ResourceNotFoundException", 404, "The resource you requested does not exist."
    )
    with pytest.raises(ClientError) as error:
        unchecked_client.create_function_url_config(FunctionName=function, AuthType="OPEN")
    assert_error(
        error,
        "ValidationException",
        400,
        "1 validation error detected: Value 'OPEN' at 'authType' failed to satisfy constraint: "
        "Member must satisfy enum value set: [NONE, AWS_IAM]",
    )
    with pytest.raises(ClientError) as error:
        lambda_client.list_function_url_configs(FunctionName=unique_name("missing"))
    assert_error(error, "ResourceNotFoundException", 404, "Function does not exist")


def test_deleting_an_alias_or_function_deletes_its_url_config(lambda_client, function) -> None:
    lambda_client.create_function_url_config(
        FunctionName=function, Qualifier="live", AuthType="NONE"
    )
    lambda_client.delete_alias(FunctionName=function, Name="live")
    lambda_client.create_alias(FunctionName=function, Name="live", FunctionVersion="1")
    with pytest.raises(ClientError):
        lambda_client.get_function_url_config(FunctionName=function, Qualifier="live")
    lambda_client.create_function_url_config(FunctionName=function, AuthType="NONE")
    lambda_client.delete_function(FunctionName=function)
    create_python_function(lambda_client, function)
    assert (
        lambda_client.list_function_url_configs(FunctionName=function)["FunctionUrlConfigs"] == []
    )
