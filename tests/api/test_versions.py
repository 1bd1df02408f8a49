"""Versions through boto3 against the running stack: publishing, listing, qualifiers, and
each version running its own code and configuration."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.api.test_functions import ARN_PREFIX, assert_error
from tests.functions import create_python_function, unique_name, zip_of

WHOAMI = """
import os

def handler(event, context):
    return {
        "answer": ANSWER,
        "greeting": os.environ.get("GREETING"),
        "version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"],
        "arn": context.invoked_function_arn,
    }
"""

WAIT = {"Delay": 0.2, "MaxAttempts": 100}


def code(answer: int) -> str:
    return f"ANSWER = {answer}\n{WHOAMI}"


def invoke(client, name: str, **kwargs) -> tuple[dict, str]:  # type: ignore[no-untyped-def, type-arg]
    response = client.invoke(FunctionName=name, Payload=b"{}", **kwargs)
    assert "FunctionError" not in response, response["Payload"].read()
    return json.loads(response["Payload"].read()), response["ExecutedVersion"]


def update_code(client, name: str, answer: int) -> None:  # type: ignore[no-untyped-def]
    client.update_function_code(FunctionName=name, ZipFile=zip_of({"app.py": code(answer)}))
    client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=WAIT)


def update_configuration(client, name: str, **config) -> None:  # type: ignore[no-untyped-def]
    client.update_function_configuration(FunctionName=name, **config)
    client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=WAIT)


@pytest.fixture
def function(lambda_client) -> str:  # type: ignore[no-untyped-def]
    name = unique_name("ver")
    create_python_function(
        lambda_client, name, code=code(1), Environment={"Variables": {"GREETING": "one"}}
    )
    return name


def test_published_version_keeps_its_code_and_configuration(lambda_client, function) -> None:
    published = lambda_client.publish_version(FunctionName=function, Description="first")
    assert published["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert published["Version"] == "1"
    assert published["FunctionArn"] == f"{ARN_PREFIX}{function}:1"
    assert published["Description"] == "first"
    update_code(lambda_client, function, 2)
    update_configuration(lambda_client, function, Environment={"Variables": {"GREETING": "two"}})
    first, executed = invoke(lambda_client, function, Qualifier="1")
    assert executed == "1"
    assert first == {
        "answer": 1,
        "greeting": "one",
        "version": "1",
        "arn": f"{ARN_PREFIX}{function}:1",
    }
    latest, executed = invoke(lambda_client, function)
    assert executed == "$LATEST"
    assert (latest["answer"], latest["greeting"], latest["version"]) == (2, "two", "$LATEST")
    config = lambda_client.get_function_configuration(FunctionName=function, Qualifier="1")
    assert config["CodeSha256"] == published["CodeSha256"]
    assert config["Environment"] == {"Variables": {"GREETING": "one"}}


def test_publishing_unchanged_code_returns_the_last_version(lambda_client, function) -> None:
    first = lambda_client.publish_version(FunctionName=function)
    lambda_client.get_waiter("function_active_v2").wait(
        FunctionName=function, Qualifier="1", WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
    )
    settled = lambda_client.get_function_configuration(FunctionName=function, Qualifier="1")
    again = lambda_client.publish_version(FunctionName=function)
    assert (first["Version"], again["Version"]) == ("1", "1")
    assert again["RevisionId"] == settled["RevisionId"]  # the existing version, not a new one
    update_configuration(lambda_client, function, Timeout=7)
    assert lambda_client.publish_version(FunctionName=function)["Version"] == "2"


def test_publish_version_checks_code_sha256(lambda_client, function) -> None:
    current = lambda_client.get_function_configuration(FunctionName=function)["CodeSha256"]
    with pytest.raises(ClientError) as error:
        lambda_client.publish_version(FunctionName=function, CodeSha256="bm90IHRoZSBoYXNo")
    assert_error(
        error,
        "InvalidParameterValueException",
        400,
        f"CodeSHA256 (bm90IHRoZSBoYXNo) is different from current CodeSHA256 in $LATEST "
        f"({current}). Please try again with the CodeSHA256 in $LATEST.",
    )
    assert lambda_client.publish_version(FunctionName=function, CodeSha256=current)["Version"]


def test_publish_version_checks_revision_id(lambda_client, function) -> None:
    with pytest.raises(ClientError) as error:
        lambda_client.publish_version(
            FunctionName=function, RevisionId="00000000-0000-0000-0000-000000000000"
        )
    assert_error(
        error,
        "PreconditionFailedException",
        412,
        "The Revision Id provided does not match the latest Revision Id. Call the "
        "GetFunction/GetAlias API to retrieve the latest Revision Id",
    )


def test_publish_version_of_a_missing_function(lambda_client) -> None:
    name = unique_name("missing")
    with pytest.raises(ClientError) as error:
        lambda_client.publish_version(FunctionName=name)
    assert_error(error, "ResourceNotFoundException", 404, f"Function not found: {ARN_PREFIX}{name}")


def test_list_versions_by_function_pages_in_order(lambda_client, function) -> None:
    for timeout in (4, 5, 6):
        update_configuration(lambda_client, function, Timeout=timeout)
        lambda_client.publish_version(FunctionName=function)
    first = lambda_client.list_versions_by_function(FunctionName=function, MaxItems=2)
    assert [v["Version"] for v in first["Versions"]] == ["$LATEST", "1"]
    assert first["Versions"][0]["FunctionArn"] == f"{ARN_PREFIX}{function}:$LATEST"
    assert first["Versions"][1]["Timeout"] == 4
    assert first["NextMarker"]
    second = lambda_client.list_versions_by_function(
        FunctionName=function, MaxItems=2, Marker=first["NextMarker"]
    )
    assert [v["Version"] for v in second["Versions"]] == ["2", "3"]
    assert "NextMarker" not in second
    pages = lambda_client.get_paginator("list_versions_by_function").paginate(
        FunctionName=function, PaginationConfig={"PageSize": 1}
    )
    assert [v["Version"] for page in pages for v in page["Versions"]] == ["$LATEST", "1", "2", "3"]


def test_list_versions_of_a_missing_function(lambda_client) -> None:
    name = unique_name("missing")
    with pytest.raises(ClientError) as error:
        lambda_client.list_versions_by_function(FunctionName=name)
    assert_error(error, "ResourceNotFoundException", 404, f"Function not found: {ARN_PREFIX}{name}")


def test_create_and_update_code_with_publish_make_versions(lambda_client) -> None:
    name = unique_name("ver")
    created = create_python_function(lambda_client, name, code=code(1), Publish=True)
    assert created["Version"] == "1"
    updated = lambda_client.update_function_code(
        FunctionName=name, ZipFile=zip_of({"app.py": code(2)}), Publish=True
    )
    assert updated["Version"] == "2"
    lambda_client.get_waiter("function_active_v2").wait(
        FunctionName=name, Qualifier="2", WaiterConfig=WAIT
    )
    assert invoke(lambda_client, name, Qualifier="1")[0]["answer"] == 1
    assert invoke(lambda_client, name, Qualifier="2")[0]["answer"] == 2


def test_version_is_found_by_qualifier_and_by_qualified_arn(lambda_client, function) -> None:
    lambda_client.publish_version(FunctionName=function)
    by_qualifier = lambda_client.get_function(FunctionName=function, Qualifier="1")
    by_arn = lambda_client.get_function(FunctionName=f"{ARN_PREFIX}{function}:1")
    for found in (by_qualifier, by_arn):
        assert found["Configuration"]["Version"] == "1"
        assert found["Configuration"]["FunctionArn"] == f"{ARN_PREFIX}{function}:1"
    answer, executed = invoke(lambda_client, f"{ARN_PREFIX}{function}:1")
    assert (answer["answer"], executed) == (1, "1")


def test_qualifier_that_contradicts_the_arn_is_refused(lambda_client, function) -> None:
    lambda_client.publish_version(FunctionName=function)
    message = "The derived qualifier from the function name does not match the specified qualifier."
    with pytest.raises(ClientError) as error:
        lambda_client.get_function(FunctionName=f"{function}:1", Qualifier="$LATEST")
    assert_error(error, "InvalidParameterValueException", 400, message)
    with pytest.raises(ClientError) as error:
        lambda_client.invoke(FunctionName=f"{ARN_PREFIX}{function}:1", Qualifier="2")
    assert_error(error, "InvalidParameterValueException", 400, message)


def test_missing_version_is_not_found(lambda_client, function) -> None:
    with pytest.raises(ClientError) as error:
        lambda_client.get_function_configuration(FunctionName=function, Qualifier="9")
    assert_error(
        error, "ResourceNotFoundException", 404, f"Function not found: {ARN_PREFIX}{function}:9"
    )


def test_latest_cannot_be_deleted_by_qualifier(lambda_client, function) -> None:
    with pytest.raises(ClientError) as error:
        lambda_client.delete_function(FunctionName=function, Qualifier="$LATEST")
    assert_error(
        error,
        "InvalidParameterValueException",
        400,
        "$LATEST version cannot be deleted without deleting the function.",
    )


def test_deleting_a_version_leaves_the_others(lambda_client, function) -> None:
    lambda_client.publish_version(FunctionName=function)
    update_code(lambda_client, function, 2)
    lambda_client.publish_version(FunctionName=function)
    lambda_client.delete_function(FunctionName=function, Qualifier="1")
    with pytest.raises(ClientError) as error:
        lambda_client.get_function(FunctionName=function, Qualifier="1")
    assert_error(
        error, "ResourceNotFoundException", 404, f"Function not found: {ARN_PREFIX}{function}:1"
    )
    versions = lambda_client.list_versions_by_function(FunctionName=function)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "2"]
    assert invoke(lambda_client, function, Qualifier="2")[0]["answer"] == 2
