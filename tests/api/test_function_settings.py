"""Recursion, runtime management and scaling configs through boto3, stored and returned."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.api.test_functions import ARN_PREFIX, assert_error
from tests.functions import create_python_function, unique_name

RUNTIME_VERSION = "arn:aws:lambda:us-east-1::runtime:0123456789abcdef"


def test_recursion_config_defaults_to_terminate_and_is_stored(lambda_client) -> None:
    name = unique_name()
    create_python_function(lambda_client, name)
    assert lambda_client.get_function_recursion_config(FunctionName=name)["RecursiveLoop"] == (
        "Terminate"
    )
    put = lambda_client.put_function_recursion_config(FunctionName=name, RecursiveLoop="Allow")
    assert put["RecursiveLoop"] == "Allow"
    assert lambda_client.get_function_recursion_config(FunctionName=name)["RecursiveLoop"] == (
        "Allow"
    )


def test_bad_recursive_loop_is_a_validation_error(unchecked_client) -> None:
    name = unique_name()
    create_python_function(unchecked_client, name)
    with pytest.raises(ClientError) as error:
        unchecked_client.put_function_recursion_config(FunctionName=name, RecursiveLoop="Maybe")
    assert_error(
        error,
        "ValidationException",
        400,
        "1 validation error detected: Value 'Maybe' at 'recursiveLoop' failed to satisfy "
        "constraint: Member must satisfy enum value set: [Allow, Terminate]",
    )


def test_runtime_management_config_is_stored(lambda_client) -> None:
    name = unique_name()
    create_python_function(lambda_client, name)
    got = lambda_client.get_runtime_management_config(FunctionName=name)
    assert got["UpdateRuntimeOn"] == "Auto"
    assert got["FunctionArn"] == ARN_PREFIX + name
    put = lambda_client.put_runtime_management_config(
        FunctionName=name, UpdateRuntimeOn="Manual", RuntimeVersionArn=RUNTIME_VERSION
    )
    assert put["UpdateRuntimeOn"] == "Manual"
    assert put["RuntimeVersionArn"] == RUNTIME_VERSION
    got = lambda_client.get_runtime_management_config(FunctionName=name)
    assert got["RuntimeVersionArn"] == RUNTIME_VERSION


def test_scaling_config_on_a_published_version(lambda_client) -> None:
    name = unique_name()
    create_python_function(lambda_client, name, Publish=True)
    put = lambda_client.put_function_scaling_config(
        FunctionName=name,
        Qualifier="1",
        FunctionScalingConfig={"MinExecutionEnvironments": 1, "MaxExecutionEnvironments": 4},
    )
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 202
    got = lambda_client.get_function_scaling_config(FunctionName=name, Qualifier="1")
    assert got["FunctionArn"] == f"{ARN_PREFIX}{name}:1"
    assert got["RequestedFunctionScalingConfig"] == {
        "MinExecutionEnvironments": 1,
        "MaxExecutionEnvironments": 4,
    }


def test_unsupported_operation_names_itself(lambda_client) -> None:
    with pytest.raises(ClientError) as error:
        lambda_client.list_capacity_providers()
    assert_error(
        error,
        "InvalidParameterValueException",
        400,
        "Tarn does not support the CapacityProvider operations (ListCapacityProviders).",
    )
