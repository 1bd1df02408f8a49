"""Resource policies through boto3 against the running stack: AddPermission, GetPolicy and
RemovePermission per function, version and alias, layer version permissions, AWS's errors."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.api.test_functions import ARN_PREFIX, assert_error
from tests.functions import create_python_function, unique_name, zip_of

LAYER_PREFIX = "arn:aws:lambda:us-east-1:000000000000:layer:"
SOURCE = "arn:aws:s3:::my-bucket"


@pytest.fixture
def function(lambda_client) -> str:  # type: ignore[no-untyped-def]
    name = unique_name("policy")
    create_python_function(lambda_client, name, Publish=True)
    return name


def permit(client, name: str, sid: str, **extra):  # type: ignore[no-untyped-def]
    return client.add_permission(
        FunctionName=name,
        StatementId=sid,
        Action=extra.pop("Action", "lambda:InvokeFunction"),
        Principal=extra.pop("Principal", "s3.amazonaws.com"),
        **extra,
    )


def test_add_permission_returns_the_statement_and_get_policy_shows_it(
    lambda_client, function
) -> None:
    added = permit(lambda_client, function, "s3", SourceArn=SOURCE, SourceAccount="123456789012")
    assert added["ResponseMetadata"]["HTTPStatusCode"] == 201
    statement = json.loads(added["Statement"])
    assert statement == {
        "Sid": "s3",
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": ARN_PREFIX + function,
        "Condition": {
            "StringEquals": {"AWS:SourceAccount": "123456789012"},
            "ArnLike": {"AWS:SourceArn": SOURCE},
        },
    }
    policy = lambda_client.get_policy(FunctionName=function)
    assert json.loads(policy["Policy"]) == {
        "Version": "2012-10-17",
        "Id": "default",
        "Statement": [statement],
    }
    latest = lambda_client.get_function_configuration(FunctionName=function)
    assert policy["RevisionId"] == latest["RevisionId"]


def test_principals_as_aws_writes_them(lambda_client, function) -> None:
    permit(lambda_client, function, "account", Principal="123456789012")
    permit(lambda_client, function, "anyone", Principal="*", FunctionUrlAuthType="NONE")
    role = "arn:aws:iam::123456789012:role/caller"
    permit(lambda_client, function, "role", Principal=role, PrincipalOrgID="o-abcdefghij")
    statements = json.loads(lambda_client.get_policy(FunctionName=function)["Policy"])["Statement"]
    assert [s["Principal"] for s in statements] == [
        {"AWS": "arn:aws:iam::123456789012:root"},
        "*",
        {"AWS": role},
    ]
    assert statements[1]["Condition"] == {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}
    assert statements[2]["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}


def test_qualified_policies_are_separate_and_name_the_qualified_arn(
    lambda_client, function
) -> None:
    lambda_client.create_alias(FunctionName=function, Name="live", FunctionVersion="1")
    before = lambda_client.get_alias(FunctionName=function, Name="live")["RevisionId"]
    added = permit(lambda_client, function, "same", Qualifier="live")
    assert json.loads(added["Statement"])["Resource"] == f"{ARN_PREFIX}{function}:live"
    permit(lambda_client, function, "same", Qualifier="1")
    permit(lambda_client, function, "same")
    policy = lambda_client.get_policy(FunctionName=function, Qualifier="live")
    after = lambda_client.get_alias(FunctionName=function, Name="live")["RevisionId"]
    assert policy["RevisionId"] == after != before
    with pytest.raises(ClientError) as error:
        lambda_client.get_policy(FunctionName=function, Qualifier="2")
    assert_error(
        error, "ResourceNotFoundException", 404, "The resource you requested does not exist."
    )


def test_duplicate_statement_id_is_a_conflict(lambda_client, function) -> None:
    permit(lambda_client, function, "twice")
    with pytest.raises(ClientError) as error:
        permit(lambda_client, function, "twice")
    assert_error(
        error,
        "ResourceConflictException",
        409,
        "The statement id (twice) provided already exists. Please provide a new statement id, "
        "or remove the existing statement.",
    )


def test_remove_permission_and_its_errors(lambda_client, function) -> None:
    permit(lambda_client, function, "first")
    permit(lambda_client, function, "second")
    with pytest.raises(ClientError) as error:
        lambda_client.remove_permission(FunctionName=function, StatementId="third")
    assert_error(
        error, "ResourceNotFoundException", 404, "Statement third is not found in resource policy."
    )
    with pytest.raises(ClientError) as error:
        lambda_client.remove_permission(FunctionName=function, StatementId="first", RevisionId="x")
    assert_error(
        error,
        "PreconditionFailedException",
        412,
        "The Revision Id provided does not match the latest Revision Id. Call the "
        "GetFunction/GetAlias API to retrieve the latest Revision Id",
    )
    revision = lambda_client.get_policy(FunctionName=function)["RevisionId"]
    removed = lambda_client.remove_permission(
        FunctionName=function, StatementId="first", RevisionId=revision
    )
    assert removed["ResponseMetadata"]["HTTPStatusCode"] == 204
    lambda_client.remove_permission(FunctionName=function, StatementId="second")
    with pytest.raises(ClientError) as error:
        lambda_client.get_policy(FunctionName=function)
    assert_error(
        error, "ResourceNotFoundException", 404, "The resource you requested does not exist."
    )
    with pytest.raises(ClientError) as error:
        lambda_client.remove_permission(FunctionName=function, StatementId="first")
    assert_error(
        error, "ResourceNotFoundException", 404, "No policy is associated with the given resource."
    )


def test_add_permission_errors_as_aws_sends_them(lambda_client, unchecked_client, function) -> None:
    with pytest.raises(ClientError) as error:
        permit(lambda_client, function, "x", Qualifier="$LATEST")
    assert_error(
        error,
        "InvalidParameterValueException",
        400,
        "We currently do not support adding policies for $LATEST.",
    )
    with pytest.raises(ClientError) as error:
        permit(lambda_client, function, "x", RevisionId="stale")
    assert error.value.response["Error"]["Code"] == "PreconditionFailedException"
    with pytest.raises(ClientError) as error:
        permit(lambda_client, function, "x", Qualifier="nope")
    assert_error(
        error,
        "ResourceNotFoundException",
        404,
        f"Cannot find alias arn: {ARN_PREFIX}{function}:nope",
    )
    with pytest.raises(ClientError) as error:
        permit(lambda_client, function, "x", Principal="somebody")
    assert_error(
        error,
        "InvalidParameterValueException",
        400,
        "The provided principal was invalid. Please check the principal and try again.",
    )
    with pytest.raises(ClientError) as error:
        permit(unchecked_client, function, "bad sid", Action="invoke")
    assert_error(
        error,
        "ValidationException",
        400,
        "2 validation errors detected: Value 'bad sid' at 'statementId' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+); "
        "Value 'invoke' at 'action' failed to satisfy constraint: Member must satisfy regular "
        "expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])",
    )
    missing = unique_name("missing")
    with pytest.raises(ClientError) as error:
        permit(lambda_client, missing, "x")
    assert_error(
        error, "ResourceNotFoundException", 404, f"Function not found: {ARN_PREFIX}{missing}"
    )


def test_deleting_a_function_deletes_its_policies(lambda_client) -> None:
    name = unique_name("policy")
    create_python_function(lambda_client, name)
    permit(lambda_client, name, "gone")
    lambda_client.delete_function(FunctionName=name)
    create_python_function(lambda_client, name)
    with pytest.raises(ClientError) as error:
        lambda_client.get_policy(FunctionName=name)
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_layer_version_permissions(lambda_client, unchecked_client) -> None:
    layer = unique_name("layer")
    lambda_client.publish_layer_version(
        LayerName=layer, Content={"ZipFile": zip_of({"python/m.py": "X = 1\n"})}
    )
    arn = f"{LAYER_PREFIX}{layer}:1"
    with pytest.raises(ClientError) as error:
        lambda_client.get_layer_version_policy(LayerName=layer, VersionNumber=1)
    assert_error(
        error, "ResourceNotFoundException", 404, "No policy is associated with the given resource."
    )
    added = lambda_client.add_layer_version_permission(
        LayerName=layer,
        VersionNumber=1,
        StatementId="account",
        Action="lambda:GetLayerVersion",
        Principal="123456789012",
    )
    assert added["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert json.loads(added["Statement"]) == {
        "Sid": "account",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "lambda:GetLayerVersion",
        "Resource": arn,
    }
    org = lambda_client.add_layer_version_permission(
        LayerName=layer,
        VersionNumber=1,
        StatementId="org",
        Action="lambda:GetLayerVersion",
        Principal="*",
        OrganizationId="o-abcdefghij",
        RevisionId=added["RevisionId"],
    )
    policy = lambda_client.get_layer_version_policy(LayerName=layer, VersionNumber=1)
    assert policy["RevisionId"] == org["RevisionId"] != added["RevisionId"]
    statements = json.loads(policy["Policy"])["Statement"]
    assert statements[1]["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}
    with pytest.raises(ClientError) as error:
        lambda_client.add_layer_version_permission(
            LayerName=layer,
            VersionNumber=1,
            StatementId="org",
            Action="lambda:GetLayerVersion",
            Principal="*",
        )
    assert error.value.response["Error"]["Code"] == "ResourceConflictException"
    with pytest.raises(ClientError) as error:
        lambda_client.remove_layer_version_permission(
            LayerName=layer, VersionNumber=1, StatementId="org", RevisionId="stale"
        )
    assert_error(
        error,
        "PreconditionFailedException",
        412,
        "The Revision Id provided does not match the latest Revision Id. Call the "
        "GetLayerPolicy API to retrieve the latest Revision Id",
    )
    lambda_client.remove_layer_version_permission(
        LayerName=layer, VersionNumber=1, StatementId="org"
    )
    with pytest.raises(ClientError) as error:
        lambda_client.remove_layer_version_permission(
            LayerName=layer, VersionNumber=1, StatementId="org"
        )
    assert_error(
        error, "ResourceNotFoundException", 404, "Statement org is not found in resource policy."
    )
    with pytest.raises(ClientError) as error:
        lambda_client.get_layer_version_policy(LayerName=layer, VersionNumber=2)
    assert_error(
        error,
        "ResourceNotFoundException",
        404,
        f"Layer version {LAYER_PREFIX}{layer}:2 does not exist.",
    )
    with pytest.raises(ClientError) as error:
        unchecked_client.add_layer_version_permission(
            LayerName=layer,
            VersionNumber=1,
            StatementId="x",
            Action="lambda:InvokeFunction",
            Principal="*",
        )
    assert error.value.response["Error"]["Code"] == "ValidationException"
