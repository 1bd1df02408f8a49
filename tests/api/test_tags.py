"""Tags through boto3 against the running stack: functions (CreateFunction's tags included),
event source mappings and code signing config ARNs, with AWS's errors."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.api.test_functions import ARN_PREFIX, assert_error
from tests.functions import create_python_function, unique_name

CSC_ARN = "arn:aws:lambda:us-east-1:000000000000:code-signing-config:csc-0123456789abcdef0"


def test_function_tags_from_create_tag_and_untag(lambda_client) -> None:
    name = unique_name("tags")
    create_python_function(lambda_client, name, Tags={"team": "a"})
    arn = ARN_PREFIX + name
    assert lambda_client.list_tags(Resource=arn)["Tags"] == {"team": "a"}
    before = lambda_client.get_function(FunctionName=name)["Configuration"]["RevisionId"]
    tagged = lambda_client.tag_resource(Resource=arn, Tags={"team": "b", "env": "dev"})
    assert tagged["ResponseMetadata"]["HTTPStatusCode"] == 204
    got = lambda_client.get_function(FunctionName=name)
    assert got["Tags"] == {"team": "b", "env": "dev"}
    assert got["Configuration"]["RevisionId"] != before
    lambda_client.untag_resource(Resource=arn, TagKeys=["team", "absent"])
    assert lambda_client.list_tags(Resource=arn)["Tags"] == {"env": "dev"}


def test_tag_errors_as_aws_sends_them(lambda_client, unchecked_client) -> None:
    name = unique_name("tags")
    create_python_function(lambda_client, name)
    with pytest.raises(ClientError) as error:
        lambda_client.tag_resource(Resource=f"{ARN_PREFIX}{name}:1", Tags={"a": "b"})
    assert_error(
        error,
        "InvalidParameterValueException",
        400,
        "Tags on function aliases and versions are not supported. Please specify a function ARN.",
    )
    missing = unique_name("missing")
    with pytest.raises(ClientError) as error:
        lambda_client.list_tags(Resource=ARN_PREFIX + missing)
    assert_error(
        error, "ResourceNotFoundException", 404, f"Function not found: {ARN_PREFIX}{missing}"
    )
    with pytest.raises(ClientError) as error:
        lambda_client.list_tags(Resource="arn:aws:lambda:eu-central-1:000000000000:function:f")
    assert_error(
        error,
        "ResourceNotFoundException",
        404,
        "Functions from 'eu-central-1' are not reachable in this region ('us-east-1')",
    )
    with pytest.raises(ClientError) as error:
        lambda_client.list_tags(Resource=name)
    assert error.value.response["Error"]["Code"] == "ValidationException"
    many = {f"k{i}": "v" for i in range(51)}
    with pytest.raises(ClientError) as error:
        lambda_client.tag_resource(Resource=ARN_PREFIX + name, Tags=many)
    assert_error(
        error, "InvalidParameterValueException", 400, "Number of tags exceeds resource tag limit."
    )
    with pytest.raises(ClientError) as error:
        unchecked_client.untag_resource(Resource=ARN_PREFIX + name, TagKeys=[])
    assert_error(
        error,
        "ValidationException",
        400,
        "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: "
        "Member must not be null",
    )


def test_event_source_mapping_tags(stack, lambda_client) -> None:
    name = unique_name("tags")
    create_python_function(lambda_client, name)
    sqs = stack.client("sqs")
    url = sqs.create_queue(QueueName=unique_name("q"))["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    mapping = lambda_client.create_event_source_mapping(
        FunctionName=name, EventSourceArn=queue, Enabled=False, Tags={"from": "create"}
    )
    arn = f"arn:aws:lambda:us-east-1:000000000000:event-source-mapping:{mapping['UUID']}"
    assert lambda_client.list_tags(Resource=arn)["Tags"] == {"from": "create"}
    lambda_client.tag_resource(Resource=arn, Tags={"more": "yes"})
    lambda_client.untag_resource(Resource=arn, TagKeys=["from"])
    assert lambda_client.list_tags(Resource=arn)["Tags"] == {"more": "yes"}
    unknown = arn[:-12] + "000000000000"
    with pytest.raises(ClientError) as error:
        lambda_client.list_tags(Resource=unknown)
    assert_error(
        error, "ResourceNotFoundException", 404, "The resource you requested does not exist."
    )


def test_code_signing_config_tags_are_kept(lambda_client) -> None:
    lambda_client.tag_resource(Resource=CSC_ARN, Tags={"signed": "no"})
    assert lambda_client.list_tags(Resource=CSC_ARN)["Tags"]["signed"] == "no"
    lambda_client.untag_resource(Resource=CSC_ARN, TagKeys=["signed"])
    assert "signed" not in lambda_client.list_tags(Resource=CSC_ARN)["Tags"]
