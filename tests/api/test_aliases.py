"""Aliases through boto3 against the running stack: management, weighted routing at invoke,
and AWS's errors, word for word."""

from __future__ import annotations

import json
import re

import pytest
from botocore.exceptions import ClientError

from tests.api.test_functions import ARN_PREFIX, assert_error
from tests.functions import create_python_function, unique_name, zip_of

ANSWER = """
def handler(event, context):
    return {"answer": ANSWER, "arn": context.invoked_function_arn}
"""
WAIT = {"Delay": 0.2, "MaxAttempts": 100}


def code(answer: int) -> str:
    return f"ANSWER = {answer}\n{ANSWER}"


@pytest.fixture
def function(lambda_client) -> str:  # type: ignore[no-untyped-def]
    """A function with versions 1 and 2, answering 1 and 2."""
    name = unique_name("alias")
    create_python_function(lambda_client, name, code=code(1), Publish=True)
    lambda_client.update_function_code(
        FunctionName=name, ZipFile=zip_of({"app.py": code(2)}), Publish=True
    )
    for version in ("1", "2"):
        lambda_client.get_waiter("function_active_v2").wait(
            FunctionName=name, Qualifier=version, WaiterConfig=WAIT
        )
    return name


def invoke(client, name: str, **kwargs) -> tuple[dict, str]:  # type: ignore[no-untyped-def, type-arg]
    response = client.invoke(FunctionName=name, Payload=b"{}", **kwargs)
    assert "FunctionError" not in response, response["Payload"].read()
    return json.loads(response["Payload"].read()), response["ExecutedVersion"]


def refused(call, *args, **kwargs) -> pytest.ExceptionInfo[ClientError]:  # type: ignore[no-untyped-def]
    with pytest.raises(ClientError) as error:
        call(*args, **kwargs)
    return error


def test_alias_lifecycle(lambda_client, function: str) -> None:
    created = lambda_client.create_alias(
        FunctionName=function, Name="live", FunctionVersion="1", Description="prod"
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["AliasArn"] == f"{ARN_PREFIX}{function}:live"
    assert (created["Name"], created["FunctionVersion"], created["Description"]) == (
        "live",
        "1",
        "prod",
    )
    assert re.fullmatch(r"[0-9a-f-]{36}", created["RevisionId"])
    assert "RoutingConfig" not in created
    fetched = lambda_client.get_alias(FunctionName=function, Name="live")
    assert {k: v for k, v in fetched.items() if k != "ResponseMetadata"} == {
        k: v for k, v in created.items() if k != "ResponseMetadata"
    }
    updated = lambda_client.update_alias(
        FunctionName=function, Name="live", FunctionVersion="2", RevisionId=created["RevisionId"]
    )
    assert (updated["FunctionVersion"], updated["Description"]) == ("2", "prod")
    assert updated["RevisionId"] != created["RevisionId"]
    deleted = lambda_client.delete_alias(FunctionName=function, Name="live")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert lambda_client.list_aliases(FunctionName=function)["Aliases"] == []


def test_invoke_through_an_alias_runs_its_version(lambda_client, function: str) -> None:
    lambda_client.create_alias(FunctionName=function, Name="live", FunctionVersion="1")
    answer, executed = invoke(lambda_client, function, Qualifier="live")
    assert (answer["answer"], executed) == (1, "1")
    assert answer["arn"] == f"{ARN_PREFIX}{function}:live"
    answer, executed = invoke(lambda_client, f"{ARN_PREFIX}{function}:live")
    assert (answer["answer"], executed) == (1, "1")
    lambda_client.update_alias(FunctionName=function, Name="live", FunctionVersion="2")
    assert invoke(lambda_client, function, Qualifier="live") == (
        {"answer": 2, "arn": f"{ARN_PREFIX}{function}:live"},
        "2",
    )


def test_get_function_through_an_alias(lambda_client, function: str) -> None:
    lambda_client.create_alias(FunctionName=function, Name="live", FunctionVersion="1")
    config = lambda_client.get_function(FunctionName=function, Qualifier="live")["Configuration"]
    assert config["FunctionArn"] == f"{ARN_PREFIX}{function}:live"
    assert config["Version"] == "1"


def test_weighted_alias_runs_both_versions(lambda_client, function: str) -> None:
    lambda_client.create_alias(
        FunctionName=function,
        Name="canary",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
    )
    alias = lambda_client.get_alias(FunctionName=function, Name="canary")
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.5}}
    counts = {"1": 0, "2": 0}
    for _ in range(200):
        answer, executed = invoke(lambda_client, function, Qualifier="canary")
        assert str(answer["answer"]) == executed
        counts[executed] += 1
    # Binomial(200, 0.5): 60..140 is more than five standard deviations either side.
    assert 60 <= counts["1"] <= 140 and 60 <= counts["2"] <= 140, counts


def test_update_alias_clears_routing_with_an_empty_config(lambda_client, function: str) -> None:
    lambda_client.create_alias(
        FunctionName=function,
        Name="canary",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}},
    )
    kept = lambda_client.update_alias(FunctionName=function, Name="canary", Description="d")
    assert kept["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.1}}
    cleared = lambda_client.update_alias(
        FunctionName=function, Name="canary", RoutingConfig={"AdditionalVersionWeights": {}}
    )
    assert "RoutingConfig" not in cleared


def test_list_aliases_by_version_and_in_pages(lambda_client, function: str) -> None:
    for name, version in (("a", "1"), ("b", "2"), ("c", "1")):
        lambda_client.create_alias(FunctionName=function, Name=name, FunctionVersion=version)
    every = lambda_client.list_aliases(FunctionName=function)["Aliases"]
    assert [a["Name"] for a in every] == ["a", "b", "c"]
    ones = lambda_client.list_aliases(FunctionName=function, FunctionVersion="1")["Aliases"]
    assert [a["Name"] for a in ones] == ["a", "c"]
    first = lambda_client.list_aliases(FunctionName=function, MaxItems=2)
    assert [a["Name"] for a in first["Aliases"]] == ["a", "b"]
    rest = lambda_client.list_aliases(FunctionName=function, MaxItems=2, Marker=first["NextMarker"])
    assert [a["Name"] for a in rest["Aliases"]] == ["c"]
    assert "NextMarker" not in rest


def test_deleting_the_function_deletes_its_aliases(lambda_client) -> None:
    name = unique_name("alias")
    create_python_function(lambda_client, name)
    lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion="$LATEST")
    lambda_client.delete_function(FunctionName=name)
    create_python_function(lambda_client, name)
    assert lambda_client.list_aliases(FunctionName=name)["Aliases"] == []


def test_alias_to_a_missing_version(lambda_client, function: str) -> None:
    error = refused(
        lambda_client.create_alias, FunctionName=function, Name="x", FunctionVersion="9"
    )
    assert_error(
        error, "ResourceNotFoundException", 404, f"Function not found: {ARN_PREFIX}{function}:9"
    )
    lambda_client.create_alias(FunctionName=function, Name="x", FunctionVersion="1")
    error = refused(
        lambda_client.update_alias, FunctionName=function, Name="x", FunctionVersion="9"
    )
    assert_error(
        error, "ResourceNotFoundException", 404, f"Function not found: {ARN_PREFIX}{function}:9"
    )


def test_routing_to_a_missing_version(lambda_client, function: str) -> None:
    error = refused(
        lambda_client.create_alias,
        FunctionName=function,
        Name="x",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"7": 0.5}},
    )
    assert_error(
        error, "ResourceNotFoundException", 404, f"Function not found: {ARN_PREFIX}{function}:7"
    )


def test_alias_of_a_missing_function(lambda_client) -> None:
    name = unique_name("missing")
    expected = f"Function not found: {ARN_PREFIX}{name}"
    error = refused(lambda_client.create_alias, FunctionName=name, Name="x", FunctionVersion="1")
    assert_error(error, "ResourceNotFoundException", 404, expected)
    error = refused(lambda_client.get_alias, FunctionName=name, Name="x")
    assert_error(error, "ResourceNotFoundException", 404, expected)
    error = refused(lambda_client.list_aliases, FunctionName=name)
    assert_error(error, "ResourceNotFoundException", 404, expected)


def test_numeric_alias_name(lambda_client, function: str) -> None:
    error = refused(
        lambda_client.create_alias, FunctionName=function, Name="1", FunctionVersion="1"
    )
    assert_error(
        error,
        "ValidationException",
        400,
        "1 validation error detected: Value '1' at 'name' failed to satisfy constraint: Member "
        "must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
    )


def test_more_than_one_additional_weight(lambda_client, function: str) -> None:
    error = refused(
        lambda_client.create_alias,
        FunctionName=function,
        Name="x",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.1, "3": 0.1}},
    )
    assert_error(
        error,
        "InvalidParameterValueException",
        400,
        "Number of items in AdditionalVersionWeights cannot be greater than 1",
    )


@pytest.mark.parametrize("weight", [1.5, -0.5])
def test_weight_outside_zero_to_one(unchecked_client, function: str, weight: float) -> None:
    error = refused(
        unchecked_client.create_alias,
        FunctionName=function,
        Name="x",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": weight}},
    )
    assert_error(
        error,
        "ValidationException",
        400,
        f"1 validation error detected: Value '{{2={weight}}}' at "
        "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must "
        "satisfy constraint: [Member must have value less than or equal to 1.0, Member must have "
        "value greater than or equal to 0.0, Member must not be null]",
    )


def test_latest_with_routing(lambda_client, function: str) -> None:
    error = refused(
        lambda_client.create_alias,
        FunctionName=function,
        Name="x",
        FunctionVersion="$LATEST",
        RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}},
    )
    assert_error(
        error,
        "InvalidParameterValueException",
        400,
        "$LATEST is not supported for an alias pointing to more than 1 version",
    )


def test_routing_to_the_alias_own_version(lambda_client, function: str) -> None:
    error = refused(
        lambda_client.create_alias,
        FunctionName=function,
        Name="x",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}},
    )
    assert_error(
        error,
        "InvalidParameterValueException",
        400,
        "Invalid function version 1. Function version 1 is already included in routing "
        "configuration.",
    )


def test_duplicate_alias(lambda_client, function: str) -> None:
    lambda_client.create_alias(FunctionName=function, Name="live", FunctionVersion="1")
    error = refused(
        lambda_client.create_alias, FunctionName=function, Name="live", FunctionVersion="2"
    )
    assert_error(
        error,
        "ResourceConflictException",
        409,
        f"Alias already exists: {ARN_PREFIX}{function}:live",
    )


def test_missing_alias_is_worded_differently_by_get_and_update(lambda_client, function) -> None:
    arn = f"{ARN_PREFIX}{function}:nope"
    error = refused(lambda_client.get_alias, FunctionName=function, Name="nope")
    assert_error(error, "ResourceNotFoundException", 404, f"Cannot find alias arn: {arn}")
    error = refused(lambda_client.update_alias, FunctionName=function, Name="nope")
    assert_error(error, "ResourceNotFoundException", 404, f"Alias not found: {arn}")
    error = refused(lambda_client.invoke, FunctionName=function, Qualifier="nope")
    assert_error(error, "ResourceNotFoundException", 404, f"Function not found: {arn}")


def test_update_alias_with_stale_revision_id(lambda_client, function: str) -> None:
    lambda_client.create_alias(FunctionName=function, Name="live", FunctionVersion="1")
    error = refused(
        lambda_client.update_alias,
        FunctionName=function,
        Name="live",
        FunctionVersion="2",
        RevisionId="00000000-0000-0000-0000-000000000000",
    )
    assert_error(
        error,
        "PreconditionFailedException",
        412,
        "The Revision Id provided does not match the latest Revision Id. Call the "
        "GetFunction/GetAlias API to retrieve the latest Revision Id",
    )


def test_qualifier_mismatch_between_arn_and_qualifier(lambda_client, function: str) -> None:
    lambda_client.create_alias(FunctionName=function, Name="live", FunctionVersion="1")
    error = refused(
        lambda_client.get_function_configuration, FunctionName=f"{function}:live", Qualifier="1"
    )
    assert_error(
        error,
        "InvalidParameterValueException",
        400,
        "The derived qualifier from the function name does not match the specified qualifier.",
    )


def test_version_an_alias_uses_cannot_be_deleted(lambda_client, function: str) -> None:
    lambda_client.create_alias(
        FunctionName=function,
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
    )
    for version in ("1", "2"):
        error = refused(lambda_client.delete_function, FunctionName=function, Qualifier=version)
        assert_error(
            error,
            "ResourceConflictException",
            409,
            "Unable to delete version because the following aliases reference it: [live]",
        )


def test_delete_function_by_alias_is_refused(lambda_client, function: str) -> None:
    lambda_client.create_alias(FunctionName=function, Name="live", FunctionVersion="1")
    error = refused(lambda_client.delete_function, FunctionName=function, Qualifier="live")
    assert_error(
        error,
        "InvalidParameterValueException",
        400,
        "Deletion of aliases is not currently supported.",
    )
