"""Custom resources backed by a Python function in Tarn: CloudFormation's Create, Update and
Delete requests reach the function, which answers with the `cfnresponse` module CloudFormation
puts beside inline code; its Data is read by Fn::GetAtt, and FAILED fails the stack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.companion.test_cloudformation import failures, outputs, wait_out
from tests.companion.test_triggers import events_in
from tests.conftest import Stack
from tests.functions import ROLE, unique_name

GREETER = """
import json, os
import cfnresponse

def handler(event, context):
    with open(os.environ["EVENTS_FILE"], "a") as file:
        file.write(json.dumps(event) + "\\n")
    name = event["ResourceProperties"]["Name"]
    if name == "nobody":
        return cfnresponse.send(event, context, cfnresponse.FAILED, {}, reason="nobody to greet")
    data = {"Greeting": "hello " + name}
    cfnresponse.send(event, context, cfnresponse.SUCCESS, data, "greeting-" + name)
"""


def template(events: Path, name: str) -> dict[str, Any]:
    return {
        "Resources": {
            "Greeter": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Runtime": "python3.12",
                    "Handler": "index.handler",
                    "Role": ROLE,
                    "Code": {"ZipFile": GREETER},
                    "Environment": {"Variables": {"EVENTS_FILE": str(events)}},
                },
            },
            "Greeting": {
                "Type": "Custom::Greeting",
                "Properties": {"ServiceToken": {"Fn::GetAtt": ["Greeter", "Arn"]}, "Name": name},
            },
        },
        "Outputs": {
            "Greeting": {"Value": {"Fn::GetAtt": ["Greeting", "Greeting"]}},
            "Id": {"Value": {"Ref": "Greeting"}},
        },
    }


def test_a_custom_resource_s_function_gets_create_update_and_delete(
    stack: Stack, tmp_path: Path
) -> None:
    cloudformation, name = stack.client("cloudformation"), unique_name("stack")
    events = tmp_path / "events.jsonl"
    waiter = {"Delay": 1, "MaxAttempts": 120}
    body = json.dumps(template(events, "world"))
    cloudformation.create_stack(StackName=name, TemplateBody=body)
    cloudformation.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=waiter)
    assert outputs(stack, name) == {"Greeting": "hello world", "Id": "greeting-world"}
    (created,) = events_in(events)
    assert created["RequestType"] == "Create"
    assert created["ResourceType"] == "Custom::Greeting"
    assert created["LogicalResourceId"] == "Greeting"
    assert created["ResourceProperties"]["Name"] == "world"

    body = json.dumps(template(events, "tarn"))
    cloudformation.update_stack(StackName=name, TemplateBody=body)
    cloudformation.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=waiter)
    assert outputs(stack, name) == {"Greeting": "hello tarn", "Id": "greeting-tarn"}
    updated, replaced = events_in(events)[1:]
    assert (updated["RequestType"], updated["PhysicalResourceId"]) == ("Update", "greeting-world")
    assert updated["OldResourceProperties"]["Name"] == "world"
    # A new PhysicalResourceId replaces the resource: the old one is deleted.
    assert (replaced["RequestType"], replaced["PhysicalResourceId"]) == ("Delete", "greeting-world")

    cloudformation.delete_stack(StackName=name)
    deleted = events_in(events)[-1]
    assert (deleted["RequestType"], deleted["PhysicalResourceId"]) == ("Delete", "greeting-tarn")


def test_a_custom_resource_that_answers_failed_fails_its_stack(
    stack: Stack, tmp_path: Path
) -> None:
    name = unique_name("stack")
    body = json.dumps(template(tmp_path / "events.jsonl", "nobody"))
    stack.client("cloudformation").create_stack(StackName=name, TemplateBody=body)
    described = wait_out(stack, name, "stack_create_complete")
    assert described["StackStatus"] == "ROLLBACK_COMPLETE"
    assert failures(stack, name)["Greeting"] == (
        "Received response status [FAILED] from custom resource. Message returned: nobody to greet"
    )
