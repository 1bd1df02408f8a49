"""CloudFormation stacks create, update and delete their Lambda resources in Tarn: the function
exists in Tarn's API and invokes, Ref and Fn::GetAtt answer as on AWS."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Stack
from tests.functions import function_names, unique_name

CODE = "def handler(event, context):\n    return {'got': event, 'v': '%s'}\n"


def template(version: str) -> dict[str, Any]:
    return {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "lambda.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    }
                },
            },
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Runtime": "python3.12",
                    "Handler": "index.handler",
                    "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                    "MemorySize": "256",
                    "Code": {"ZipFile": CODE % version},
                    "Tags": [{"Key": "team", "Value": "tarn"}],
                },
            },
            "Version": {
                "Type": "AWS::Lambda::Version",
                "Properties": {"FunctionName": {"Ref": "Fn"}},
            },
            "Live": {
                "Type": "AWS::Lambda::Alias",
                "Properties": {
                    "FunctionName": {"Ref": "Fn"},
                    "FunctionVersion": {"Fn::GetAtt": ["Version", "Version"]},
                    "Name": "live",
                },
            },
            "FromS3": {
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "FunctionName": {"Ref": "Live"},
                    "Action": "lambda:InvokeFunction",
                    "Principal": "s3.amazonaws.com",
                    "SourceAccount": {"Ref": "AWS::AccountId"},
                },
            },
        },
        "Outputs": {
            "Name": {"Value": {"Ref": "Fn"}},
            "Arn": {"Value": {"Fn::GetAtt": ["Fn", "Arn"]}},
            "AliasArn": {"Value": {"Ref": "Live"}},
        },
    }


def invoke(stack: Stack, name: str, qualifier: str | None = None) -> dict[str, Any]:
    extra = {"Qualifier": qualifier} if qualifier else {}
    response = stack.client().invoke(FunctionName=name, Payload=b'{"a": 1}', **extra)
    return dict(json.loads(response["Payload"].read()))


def outputs(stack: Stack, name: str) -> dict[str, str]:
    (described,) = stack.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def test_a_stack_s_function_alias_and_permission_are_tarn_s(stack: Stack) -> None:
    cloudformation, lambda_client = stack.client("cloudformation"), stack.client()
    name = unique_name("stack")
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template("one")))
    cloudformation.get_waiter("stack_create_complete").wait(
        StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    out = outputs(stack, name)
    function = out["Name"]
    assert function.startswith(f"{name}-Fn-")
    assert function in function_names(lambda_client)
    config = lambda_client.get_function(FunctionName=function)
    assert config["Configuration"]["FunctionArn"] == out["Arn"]
    assert config["Configuration"]["MemorySize"] == 256
    assert config["Tags"] == {"team": "tarn"}
    assert invoke(stack, function) == {"got": {"a": 1}, "v": "one"}
    alias = lambda_client.get_alias(FunctionName=function, Name="live")
    assert alias["AliasArn"] == out["AliasArn"] and alias["FunctionVersion"] == "1"
    policy = json.loads(lambda_client.get_policy(FunctionName=function, Qualifier="live")["Policy"])
    assert [s["Principal"] for s in policy["Statement"]] == [{"Service": "s3.amazonaws.com"}]
    assert invoke(stack, function, "live")["v"] == "one"

    cloudformation.update_stack(StackName=name, TemplateBody=json.dumps(template("two")))
    cloudformation.get_waiter("stack_update_complete").wait(
        StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    assert invoke(stack, function) == {"got": {"a": 1}, "v": "two"}

    cloudformation.delete_stack(StackName=name)
    cloudformation.get_waiter("stack_delete_complete").wait(
        StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    with pytest.raises(ClientError) as missing:
        lambda_client.get_function(FunctionName=function)
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_resource_tarn_refuses_fails_the_request_with_tarn_s_reason(stack: Stack) -> None:
    broken = template("one")
    broken["Resources"]["Fn"]["Properties"]["Runtime"] = "python1.0"
    with pytest.raises(ClientError) as refused:
        stack.client("cloudformation").create_stack(
            StackName=unique_name("stack"), TemplateBody=json.dumps(broken)
        )
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationError"
    assert "python1.0" in error["Message"] and "CreateFunction" in error["Message"]
