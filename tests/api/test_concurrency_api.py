"""Reserved and provisioned concurrency through boto3: what is stored and returned, and AWS's
errors (the account's 100 unreserved minimum, $LATEST refused)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.api.test_functions import ARN_PREFIX, assert_error
from tests.functions import create_python_function, unique_name


def test_reserved_concurrency_is_stored_and_shown(lambda_client) -> None:
    name = unique_name()
    create_python_function(lambda_client, name)
    empty = lambda_client.get_function_concurrency(FunctionName=name)
    assert "ReservedConcurrentExecutions" not in empty
    put = lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)
    assert put["ReservedConcurrentExecutions"] == 2
    got = lambda_client.get_function_concurrency(FunctionName=name)
    assert got["ReservedConcurrentExecutions"] == 2
    function = lambda_client.get_function(FunctionName=name)
    assert function["Concurrency"] == {"ReservedConcurrentExecutions": 2}
    settings = lambda_client.get_account_settings()
    assert settings["AccountLimit"]["UnreservedConcurrentExecutions"] <= 998
    lambda_client.delete_function_concurrency(FunctionName=name)
    assert "Concurrency" not in lambda_client.get_function(FunctionName=name)


def test_reserving_into_the_unreserved_minimum_is_refused(lambda_client) -> None:
    name = unique_name()
    create_python_function(lambda_client, name)
    with pytest.raises(ClientError) as error:
        lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=901)
    assert_error(
        error,
        "InvalidParameterValueException",
        400,
        "Specified ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [100].",
    )


def test_reserved_concurrency_of_a_missing_function_is_not_found(lambda_client) -> None:
    name = unique_name()
    with pytest.raises(ClientError) as error:
        lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    assert_error(error, "ResourceNotFoundException", 404, f"Function not found: {ARN_PREFIX}{name}")


def test_provisioned_concurrency_on_a_version_and_alias(lambda_client) -> None:
    name = unique_name()
    create_python_function(lambda_client, name, Publish=True)
    lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    put = lambda_client.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=2
    )
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert put["RequestedProvisionedConcurrentExecutions"] == 2
    assert put["AllocatedProvisionedConcurrentExecutions"] == 0
    assert put["Status"] == "IN_PROGRESS"
    got = lambda_client.get_provisioned_concurrency_config(FunctionName=name, Qualifier="live")
    assert got["RequestedProvisionedConcurrentExecutions"] == 2
    listed = lambda_client.list_provisioned_concurrency_configs(FunctionName=name)
    [item] = listed["ProvisionedConcurrencyConfigs"]
    assert item["FunctionArn"] == f"{ARN_PREFIX}{name}:live"
    with pytest.raises(ClientError) as error:
        lambda_client.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=1
        )
    assert_error(
        error,
        "ResourceConflictException",
        409,
        "Version is pointed by a Provisioned Concurrency alias",
    )
    lambda_client.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="live")
    with pytest.raises(ClientError) as error:
        lambda_client.get_provisioned_concurrency_config(FunctionName=name, Qualifier="live")
    assert_error(
        error,
        "ProvisionedConcurrencyConfigNotFoundException",
        404,
        "No Provisioned Concurrency Config found for this function",
    )


def test_provisioned_concurrency_on_latest_is_refused(lambda_client) -> None:
    name = unique_name()
    create_python_function(lambda_client, name)
    with pytest.raises(ClientError) as error:
        lambda_client.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="$LATEST", ProvisionedConcurrentExecutions=1
        )
    assert_error(
        error,
        "InvalidParameterValueException",
        400,
        "Provisioned Concurrency Configs cannot be applied to unpublished function versions.",
    )
    with pytest.raises(ClientError) as error:
        lambda_client.get_provisioned_concurrency_config(FunctionName=name, Qualifier="$LATEST")
    assert_error(
        error,
        "InvalidParameterValueException",
        400,
        "The function resource provided must be an alias or a published version.",
    )
