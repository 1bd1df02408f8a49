"""CloudFormation stacks create, update and delete their Lambda resources in Tarn: the function
exists in Tarn's API and invokes, Ref and Fn::GetAtt answer as on AWS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, WaiterError

from tests.companion.test_cloudformation_wiring import aws
from tests.conftest import Stack
from tests.functions import ROLE, function_names, unique_name

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


def wait_out(stack: Stack, name: str, waiter: str) -> dict[str, Any]:
    """The stack once `waiter` gives up on it (it must: the stack failed)."""
    cloudformation = stack.client("cloudformation")
    with pytest.raises(WaiterError):
        cloudformation.get_waiter(waiter).wait(
            StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )
    (described,) = cloudformation.describe_stacks(StackName=name)["Stacks"]
    return dict(described)


def failures(stack: Stack, name: str) -> dict[str, str]:
    """The stack's failed resources, each with its event's reason."""
    events = stack.client("cloudformation").describe_stack_events(StackName=name)["StackEvents"]
    return {
        e["LogicalResourceId"]: e.get("ResourceStatusReason", "")
        for e in events
        if e["ResourceStatus"].endswith("_FAILED")
    }


def test_a_failing_resource_rolls_the_stack_s_create_back(stack: Stack) -> None:
    broken, name = template("one"), unique_name("stack")
    broken["Resources"]["Live"]["Properties"]["FunctionVersion"] = "99"
    stack.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(broken))
    described = wait_out(stack, name, "stack_create_complete")
    assert described["StackStatus"] == "ROLLBACK_COMPLETE"
    assert described["StackStatusReason"] == (
        "The following resource(s) failed to create: [Live]. Rollback requested by user."
    )
    (reason,) = failures(stack, name).values()
    assert "CreateAlias" in reason and "99" in reason
    created = [f for f in function_names(stack.client()) if f.startswith(f"{name}-Fn-")]
    assert created == []  # the function made before the alias failed is deleted


def test_a_failing_resource_rolls_the_stack_s_update_back(stack: Stack) -> None:
    cloudformation, name = stack.client("cloudformation"), unique_name("stack")
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template("one")))
    cloudformation.get_waiter("stack_create_complete").wait(
        StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    function = outputs(stack, name)["Name"]
    broken = template("two")  # the function's code changes, then the alias fails
    broken["Resources"]["Live"]["Properties"]["FunctionVersion"] = "99"
    cloudformation.update_stack(StackName=name, TemplateBody=json.dumps(broken))
    described = wait_out(stack, name, "stack_update_complete")
    assert described["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert "[Live]" in described["StackStatusReason"]
    assert "UpdateAlias" in failures(stack, name)["Live"]
    assert invoke(stack, function)["v"] == "one"  # the code is back
    assert invoke(stack, function, "live")["v"] == "one"
    cloudformation.delete_stack(StackName=name)


def test_aws_cloudformation_deploy_reports_a_failed_stack(stack: Stack, tmp_path: Path) -> None:
    broken, name = template("one"), unique_name("stack")
    broken["Resources"]["Live"]["Properties"]["FunctionVersion"] = "99"
    path = tmp_path / "template.json"
    path.write_text(json.dumps(broken))
    deployed = aws(
        stack, "cloudformation", "deploy", "--template-file", str(path), "--stack-name", name
    )
    assert deployed.returncode != 0
    assert "Failed to create/update the stack" in deployed.stderr
    (described,) = stack.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    assert described["StackStatus"] == "ROLLBACK_COMPLETE"
    stack.client("cloudformation").delete_stack(StackName=name)


def test_a_change_set_lists_only_what_changed(stack: Stack) -> None:
    cloudformation, name = stack.client("cloudformation"), unique_name("stack")
    resources: dict[str, Any] = {"Queue": {"Type": "AWS::SQS::Queue"}}  # no Properties
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps({"Resources": resources}))
    cloudformation.get_waiter("stack_create_complete").wait(
        StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    resources["Topic"] = {"Type": "AWS::SNS::Topic"}
    cloudformation.create_change_set(
        StackName=name,
        ChangeSetName="more",
        ChangeSetType="UPDATE",
        TemplateBody=json.dumps({"Resources": resources}),
    )
    changes = cloudformation.describe_change_set(StackName=name, ChangeSetName="more")["Changes"]
    listed = [
        (c["ResourceChange"]["Action"], c["ResourceChange"]["LogicalResourceId"]) for c in changes
    ]
    assert listed == [("Add", "Topic")]
    cloudformation.delete_stack(StackName=name)


SLOW = """
import time
import cfnresponse

def handler(event, context):
    if event["RequestType"] == "Create":
        time.sleep(6)  # past the 5 s CreateStack waits before it answers IN_PROGRESS
    cfnresponse.send(event, context, cfnresponse.SUCCESS, {"Value": "made"}, "slow")
"""


def test_a_stack_operation_runs_in_the_background_and_refuses_another(stack: Stack) -> None:
    """A stack that takes long is CREATE_IN_PROGRESS when CreateStack answers; until it is
    made, an update is refused as on AWS, and DescribeStacks gives no Outputs (nothing is made
    twice)."""
    cloudformation, name = stack.client("cloudformation"), unique_name("stack")
    function = {"Runtime": "python3.12", "Handler": "index.handler", "Role": ROLE}
    body = {
        "Resources": {
            "Slow": {
                "Type": "AWS::Lambda::Function",
                "Properties": function | {"Timeout": 30, "Code": {"ZipFile": SLOW}},
            },
            "Made": {
                "Type": "Custom::Slow",
                "Properties": {"ServiceToken": {"Fn::GetAtt": ["Slow", "Arn"]}},
            },
        },
        "Outputs": {"Value": {"Value": {"Fn::GetAtt": ["Made", "Value"]}}},
    }
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(body))
    (described,) = cloudformation.describe_stacks(StackName=name)["Stacks"]
    assert described["StackStatus"] == "CREATE_IN_PROGRESS"
    assert "Outputs" not in described
    with pytest.raises(ClientError) as refused:
        cloudformation.update_stack(StackName=name, TemplateBody=json.dumps(body))
    assert "CREATE_IN_PROGRESS state and can not be updated" in str(refused.value)
    cloudformation.get_waiter("stack_create_complete").wait(
        StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    assert outputs(stack, name) == {"Value": "made"}
    cloudformation.delete_stack(StackName=name)
