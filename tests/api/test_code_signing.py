"""Code signing configs through boto3: CRUD, attachment to functions (Terraform reads it for
every function), and AWS's errors."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from tests.api.test_functions import ARN_PREFIX, assert_error
from tests.functions import create_python_function, unique_name

PROFILE = "arn:aws:signer:us-east-1:000000000000:/signing-profiles/tarn/abcdef0123"
CSC_ARN = re.compile(r"arn:aws:lambda:us-east-1:000000000000:code-signing-config:csc-[0-9a-f]{17}")


def create_config(client, **extra):  # type: ignore[no-untyped-def]
    return client.create_code_signing_config(
        AllowedPublishers={"SigningProfileVersionArns": [PROFILE]}, **extra
    )["CodeSigningConfig"]


def test_code_signing_config_lifecycle(lambda_client) -> None:
    config = create_config(lambda_client, Description="release")
    arn = config["CodeSigningConfigArn"]
    assert CSC_ARN.fullmatch(arn)
    assert config["CodeSigningConfigId"] == arn.rsplit(":", 1)[1]
    assert config["CodeSigningPolicies"] == {"UntrustedArtifactOnDeployment": "Warn"}
    assert config["Description"] == "release"
    got = lambda_client.get_code_signing_config(CodeSigningConfigArn=arn)["CodeSigningConfig"]
    assert got == config
    updated = lambda_client.update_code_signing_config(
        CodeSigningConfigArn=arn,
        CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Enforce"},
    )["CodeSigningConfig"]
    assert updated["CodeSigningPolicies"] == {"UntrustedArtifactOnDeployment": "Enforce"}
    assert updated["Description"] == "release"
    listed = lambda_client.list_code_signing_configs(MaxItems=10000)["CodeSigningConfigs"]
    assert arn in [c["CodeSigningConfigArn"] for c in listed]
    lambda_client.delete_code_signing_config(CodeSigningConfigArn=arn)
    with pytest.raises(ClientError) as error:
        lambda_client.get_code_signing_config(CodeSigningConfigArn=arn)
    assert_error(
        error,
        "ResourceNotFoundException",
        404,
        f"The Lambda code signing configuration {arn} can not be found.",
    )


def test_function_without_config_answers_200_empty(lambda_client) -> None:
    name = unique_name()
    create_python_function(lambda_client, name)
    response = lambda_client.get_function_code_signing_config(FunctionName=name)
    response.pop("ResponseMetadata")
    assert response == {}


def test_create_function_attaches_config_and_in_use_config_cannot_be_deleted(
    lambda_client,
) -> None:
    arn = create_config(lambda_client)["CodeSigningConfigArn"]
    name = unique_name()
    create_python_function(lambda_client, name, CodeSigningConfigArn=arn)
    response = lambda_client.get_function_code_signing_config(FunctionName=name)
    assert response["CodeSigningConfigArn"] == arn
    assert response["FunctionName"] == name
    by_config = lambda_client.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)
    assert by_config["FunctionArns"] == [ARN_PREFIX + name]
    with pytest.raises(ClientError) as error:
        lambda_client.delete_code_signing_config(CodeSigningConfigArn=arn)
    assert error.value.response["Error"]["Code"] == "ResourceConflictException"
    lambda_client.delete_function_code_signing_config(FunctionName=name)
    empty = lambda_client.get_function_code_signing_config(FunctionName=name)
    assert "CodeSigningConfigArn" not in empty
    lambda_client.put_function_code_signing_config(CodeSigningConfigArn=arn, FunctionName=name)
    lambda_client.delete_function(FunctionName=name)  # takes the attachment with it
    lambda_client.delete_code_signing_config(CodeSigningConfigArn=arn)


def test_attaching_a_missing_config_is_refused(lambda_client) -> None:
    name = unique_name()
    create_python_function(lambda_client, name)
    arn = "arn:aws:lambda:us-east-1:000000000000:code-signing-config:csc-0123456789abcdef0"
    with pytest.raises(ClientError) as error:
        lambda_client.put_function_code_signing_config(CodeSigningConfigArn=arn, FunctionName=name)
    assert_error(
        error,
        "CodeSigningConfigNotFoundException",
        404,
        "The code signing configuration cannot be found. Check that the provided configuration "
        f"is not deleted: {arn}.",
    )


def test_missing_function_is_not_found(lambda_client) -> None:
    name = unique_name()
    with pytest.raises(ClientError) as error:
        lambda_client.get_function_code_signing_config(FunctionName=name)
    assert_error(error, "ResourceNotFoundException", 404, f"Function not found: {ARN_PREFIX}{name}")


def test_bad_policy_is_a_validation_error(unchecked_client) -> None:
    with pytest.raises(ClientError) as error:
        unchecked_client.create_code_signing_config(
            AllowedPublishers={"SigningProfileVersionArns": [PROFILE]},
            CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Nope"},
        )
    assert_error(
        error,
        "ValidationException",
        400,
        "1 validation error detected: Value 'Nope' at "
        "'codeSigningPolicies.untrustedArtifactOnDeployment' failed to satisfy constraint: "
        "Member must satisfy enum value set: [Warn, Enforce]",
    )
