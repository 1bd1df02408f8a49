"""`aws cloudformation deploy` (the AWS CLI's change sets) of a template with a layer and a
function from S3 zips, a URL, an SQS mapping, an event invoke config, a layer permission and a
code signing config: each is Tarn's, with AWS's GetAtt values."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Stack
from tests.functions import function_names, unique_name, zip_of
from tests.waiting import wait_for

HANDLER = "import shared\n\ndef handler(event, context):\n    return shared.WORD\n"
SIGNER = "arn:aws:signer:us-east-1:000000000000:/signing-profiles/tarn/abcdef1234"


def template(bucket: str) -> dict[str, Any]:
    return {
        "Resources": {
            "Layer": {
                "Type": "AWS::Lambda::LayerVersion",
                "Properties": {
                    "LayerName": {"Fn::Sub": "${AWS::StackName}-shared"},
                    "Content": {"S3Bucket": bucket, "S3Key": "layer.zip"},
                    "CompatibleRuntimes": ["python3.12"],
                },
            },
            "LayerUse": {
                "Type": "AWS::Lambda::LayerVersionPermission",
                "Properties": {
                    "LayerVersionArn": {"Ref": "Layer"},
                    "Action": "lambda:GetLayerVersion",
                    "Principal": "*",
                },
            },
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Runtime": "python3.12",
                    "Handler": "app.handler",
                    "Role": "arn:aws:iam::000000000000:role/lambda-role",
                    "Code": {"S3Bucket": bucket, "S3Key": "app.zip"},
                    "Layers": [{"Ref": "Layer"}],
                    "Timeout": "10",
                },
            },
            "Url": {
                "Type": "AWS::Lambda::Url",
                "Properties": {
                    "TargetFunctionArn": {"Fn::GetAtt": ["Fn", "Arn"]},
                    "AuthType": "NONE",
                },
            },
            "Queue": {"Type": "AWS::SQS::Queue"},
            "Mapping": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    "FunctionName": {"Ref": "Fn"},
                    "EventSourceArn": {"Fn::GetAtt": ["Queue", "Arn"]},
                    "BatchSize": "5",
                },
            },
            "Retries": {
                "Type": "AWS::Lambda::EventInvokeConfig",
                "Properties": {
                    "FunctionName": {"Ref": "Fn"},
                    "Qualifier": "$LATEST",
                    "MaximumRetryAttempts": "1",
                },
            },
            "Signing": {
                "Type": "AWS::Lambda::CodeSigningConfig",
                "Properties": {"AllowedPublishers": {"SigningProfileVersionArns": [SIGNER]}},
            },
        },
        "Outputs": {
            "Name": {"Value": {"Ref": "Fn"}},
            "FunctionUrl": {"Value": {"Fn::GetAtt": ["Url", "FunctionUrl"]}},
            "MappingId": {"Value": {"Fn::GetAtt": ["Mapping", "Id"]}},
            "LayerArn": {"Value": {"Ref": "Layer"}},
            "SigningArn": {"Value": {"Fn::GetAtt": ["Signing", "CodeSigningConfigArn"]}},
        },
    }


def aws(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    """The AWS CLI (the one installed beside this Python, else the one on PATH) on the stack."""
    credentials = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
    env = os.environ | credentials | {"AWS_DEFAULT_REGION": "us-east-1"}
    beside = Path(sys.executable).parent / "aws"
    return subprocess.run(
        [str(beside) if beside.exists() else "aws", "--endpoint-url", stack.url, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.mark.slow
def test_aws_cloudformation_deploy_creates_every_lambda_resource_in_tarn(
    stack: Stack, tmp_path: Path
) -> None:
    bucket, name = unique_name("code"), unique_name("stack")
    s3 = stack.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="app.zip", Body=zip_of({"app.py": HANDLER}))
    layer = zip_of({"python/shared.py": "WORD = 'from the layer'\n"})
    s3.put_object(Bucket=bucket, Key="layer.zip", Body=layer)
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template(bucket)))

    deployed = aws(
        stack, "cloudformation", "deploy", "--template-file", str(path), "--stack-name", name
    )
    assert deployed.returncode == 0, deployed.stderr + deployed.stdout
    (described,) = stack.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    out = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}

    lambda_client = stack.client()
    function = out["Name"]
    assert json.loads(lambda_client.invoke(FunctionName=function)["Payload"].read()) == (
        "from the layer"
    )
    url = lambda_client.get_function_url_config(FunctionName=function)
    assert url["FunctionUrl"] == out["FunctionUrl"] and url["AuthType"] == "NONE"
    mapping = lambda_client.get_event_source_mapping(UUID=out["MappingId"])
    assert mapping["BatchSize"] == 5 and mapping["FunctionArn"].endswith(f":{function}")
    retries = lambda_client.get_function_event_invoke_config(FunctionName=function)
    assert retries["MaximumRetryAttempts"] == 1
    layer_name, version = out["LayerArn"].rsplit(":", 1)
    policy = lambda_client.get_layer_version_policy(
        LayerName=layer_name, VersionNumber=int(version)
    )
    assert json.loads(policy["Policy"])["Statement"][0]["Principal"] == "*"
    signing = lambda_client.get_code_signing_config(CodeSigningConfigArn=out["SigningArn"])
    assert signing["CodeSigningConfig"]["AllowedPublishers"]["SigningProfileVersionArns"] == [
        SIGNER
    ]

    deleted = aws(stack, "cloudformation", "delete-stack", "--stack-name", name)
    assert deleted.returncode == 0, deleted.stderr
    assert function not in function_names(lambda_client)

    def mappings_gone() -> bool:  # Deleting until the poller lets go, as on AWS
        found = lambda_client.list_event_source_mappings(FunctionName=function)
        return found["EventSourceMappings"] == []

    wait_for(mappings_gone, 30, "the stack's mapping to be deleted")
