"""Fields and messages as AWS sends them: VpcConfig, SnapStart, LoggingConfig levels, layer
version numbers, stream mappings without a StartingPosition, every JSON member of the typed
type botocore's output shapes name, and functions running with their own role's credentials."""

from __future__ import annotations

import gzip
import json
import os
from typing import Any

import boto3
import botocore
import pytest
from botocore.exceptions import ClientError

from tests.api.test_function_errors import create, raw_request
from tests.api.test_functions import assert_error
from tests.conftest import Stack
from tests.functions import unique_name, zip_of

MODEL = os.path.join(os.path.dirname(botocore.__file__), "data/lambda/2015-03-31/service-2.json.gz")
TEXT_WITH_LEVELS = (
    'LogLevel is not supported when LogFormat is set to "Text". Remove LogLevel from your '
    'request or change the LogFormat to "JSON" and try again.'
)


def wait_active(client, name: str) -> None:  # type: ignore[no-untyped-def]
    client.get_waiter("function_active_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
    )


def wait_updated(client, name: str) -> None:  # type: ignore[no-untyped-def]
    client.get_waiter("function_updated_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
    )


def test_snap_start_apply_on_outside_the_enum_is_refused(lambda_client) -> None:
    with pytest.raises(ClientError) as error:
        create(lambda_client, SnapStart={"ApplyOn": "Always"})
    assert_error(
        error,
        "ValidationException",
        400,
        "1 validation error detected: Value 'Always' at 'snapStart.applyOn' failed to satisfy "
        "constraint: Member must satisfy enum value set: [PublishedVersions, None]",
    )


def test_snap_start_on_a_runtime_without_it_is_refused(lambda_client) -> None:
    with pytest.raises(ClientError) as error:
        create(lambda_client, Runtime="python3.11", SnapStart={"ApplyOn": "PublishedVersions"})
    assert_error(
        error,
        "InvalidParameterValueException",
        400,
        "python3.11 is not supported for SnapStart enabled functions.",
    )


def test_snap_start_is_stored_and_on_for_published_versions(lambda_client) -> None:
    created = create(lambda_client, SnapStart={"ApplyOn": "PublishedVersions"})
    assert created["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "Off"}
    name = created["FunctionName"]
    wait_active(lambda_client, name)
    version = lambda_client.publish_version(FunctionName=name)
    assert version["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"}
    assert create(lambda_client)["SnapStart"] == {"ApplyOn": "None", "OptimizationStatus": "Off"}


def test_vpc_config_is_left_out_until_set_then_rendered_whole(lambda_client) -> None:
    created = create(lambda_client)
    assert "VpcConfig" not in created
    name = created["FunctionName"]
    wait_active(lambda_client, name)
    vpc = {"SubnetIds": ["subnet-1", "subnet-2"], "SecurityGroupIds": ["sg-1"]}
    updated = lambda_client.update_function_configuration(FunctionName=name, VpcConfig=vpc)
    assert updated["VpcConfig"] == vpc | {"VpcId": "", "Ipv6AllowedForDualStack": False}
    wait_updated(lambda_client, name)
    cleared = lambda_client.update_function_configuration(
        FunctionName=name, VpcConfig={"SubnetIds": [], "SecurityGroupIds": []}
    )
    assert cleared["VpcConfig"] == {
        "SubnetIds": [],
        "SecurityGroupIds": [],
        "VpcId": "",
        "Ipv6AllowedForDualStack": False,
    }


def test_log_levels_with_text_logs_are_refused(lambda_client) -> None:
    for logging_config in (
        {"LogFormat": "Text", "ApplicationLogLevel": "DEBUG"},
        {"SystemLogLevel": "WARN"},  # Text is the default
    ):
        with pytest.raises(ClientError) as error:
            create(lambda_client, LoggingConfig=logging_config)
        assert_error(error, "InvalidParameterValueException", 400, TEXT_WITH_LEVELS)


def test_json_logs_have_levels_and_text_logs_none(lambda_client) -> None:
    created = create(lambda_client, LoggingConfig={"LogFormat": "JSON"})
    name = created["FunctionName"]
    assert created["LoggingConfig"] == {
        "LogFormat": "JSON",
        "ApplicationLogLevel": "INFO",
        "SystemLogLevel": "INFO",
        "LogGroup": f"/aws/lambda/{name}",
    }
    wait_active(lambda_client, name)
    debug = {"ApplicationLogLevel": "DEBUG"}
    updated = lambda_client.update_function_configuration(FunctionName=name, LoggingConfig=debug)
    assert updated["LoggingConfig"]["ApplicationLogLevel"] == "DEBUG"
    assert updated["LoggingConfig"]["SystemLogLevel"] == "INFO"
    wait_updated(lambda_client, name)
    text = lambda_client.update_function_configuration(
        FunctionName=name, LoggingConfig={"LogFormat": "Text"}
    )
    assert text["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}


def test_log_level_outside_the_enum_is_refused(lambda_client) -> None:
    with pytest.raises(ClientError) as error:
        create(lambda_client, LoggingConfig={"LogFormat": "JSON", "SystemLogLevel": "TRACE"})
    assert_error(
        error,
        "ValidationException",
        400,
        "1 validation error detected: Value 'TRACE' at 'loggingConfig.systemLogLevel' failed to "
        "satisfy constraint: Member must satisfy enum value set: [DEBUG, INFO, WARN]",
    )


def test_layer_version_below_one_is_invalid_not_missing(lambda_client) -> None:
    layer = lambda_client.publish_layer_version(
        LayerName=unique_name("layer"), Content={"ZipFile": zip_of({"python/x.py": ""})}
    )
    name, arn = layer["LayerArn"].rsplit(":", 1)[1], layer["LayerArn"]
    calls = [
        lambda: lambda_client.get_layer_version(LayerName=name, VersionNumber=0),
        lambda: lambda_client.get_layer_version(LayerName=name, VersionNumber=-1),
        lambda: lambda_client.delete_layer_version(LayerName=name, VersionNumber=0),
        lambda: lambda_client.get_layer_version_by_arn(Arn=f"{arn}:0"),
    ]
    for call in calls:
        with pytest.raises(ClientError) as error:
            call()
        assert_error(
            error, "InvalidParameterValueException", 400, "Layer Version Cannot be less than 1"
        )


def test_kinesis_mapping_without_starting_position(lambda_client) -> None:
    name = create(lambda_client)["FunctionName"]
    stream = "arn:aws:kinesis:us-east-1:000000000000:stream/s"
    with pytest.raises(ClientError) as error:
        lambda_client.create_event_source_mapping(FunctionName=name, EventSourceArn=stream)
    assert_error(
        error,
        "InvalidParameterValueException",
        400,
        "1 validation error detected: Value null at 'startingPosition' failed to satisfy "
        "constraint: Member must not be null.",
    )


def test_event_invoke_config_of_a_function_without_one(lambda_client) -> None:
    created = create(lambda_client)
    with pytest.raises(ClientError) as error:
        lambda_client.get_function_event_invoke_config(FunctionName=created["FunctionName"])
    assert_error(
        error,
        "ResourceNotFoundException",
        404,
        f"The function {created['FunctionArn']}:$LATEST doesn't have an EventInvokeConfig",
    )


# Every member's JSON type against botocore's output shapes.

JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "blob": (str,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
    "boolean": (bool,),
    "timestamp": (int, float),  # rest-json: epoch seconds
    "list": (list,),
    "map": (dict,),
    "structure": (dict,),
}


def mismatches(shapes: dict[str, Any], shape_name: str, value: Any, path: str) -> list[str]:
    """Where `value` does not have the JSON types `shape_name` gives it (and unknown keys)."""
    shape = shapes[shape_name]
    kind = shape["type"]
    wanted = JSON_TYPES[kind]
    if not isinstance(value, wanted) or (kind in ("integer", "long") and isinstance(value, bool)):
        return [f"{path}: {type(value).__name__} where {kind} ({shape_name}) belongs"]
    found: list[str] = []
    if kind == "structure":
        members = shape["members"]
        for key, item in value.items():
            if key not in members:
                found.append(f"{path}.{key}: not in {shape_name}")
            elif "location" not in members[key]:
                found += mismatches(shapes, members[key]["shape"], item, f"{path}.{key}")
    elif kind == "list":
        for index, item in enumerate(value):
            found += mismatches(shapes, shape["member"]["shape"], item, f"{path}[{index}]")
    elif kind == "map":
        for key, item in value.items():
            found += mismatches(shapes, shape["value"]["shape"], item, f"{path}.{key}")
    return found


def realistic_function(stack: Stack, client) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    """A function with most settings, a version, an alias, a layer and an SQS mapping."""
    layer = client.publish_layer_version(
        LayerName=unique_name("layer"),
        Content={"ZipFile": zip_of({"python/x.py": ""})},
        CompatibleRuntimes=["python3.12"],
        CompatibleArchitectures=["x86_64"],
        LicenseInfo="MIT",
    )
    queue = stack.client("sqs").create_queue(QueueName=unique_name("q"))["QueueUrl"]
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=queue, AttributeNames=["QueueArn"]
    )
    created = create(
        client,
        Description="typed",
        Timeout=30,
        MemorySize=256,
        Environment={"Variables": {"STAGE": "1"}},
        Layers=[layer["LayerVersionArn"]],
        VpcConfig={"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]},
        SnapStart={"ApplyOn": "PublishedVersions"},
        LoggingConfig={"LogFormat": "JSON"},
        TracingConfig={"Mode": "Active"},
        EphemeralStorage={"Size": 1024},
        Tags={"team": "a"},
    )
    name = created["FunctionName"]
    wait_active(client, name)
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=5)
    version = client.publish_version(FunctionName=name)["Version"]
    client.create_alias(
        FunctionName=name,
        Name="live",
        FunctionVersion=version,
        RoutingConfig={"AdditionalVersionWeights": {}},
    )
    mapping = client.create_event_source_mapping(
        FunctionName=name,
        EventSourceArn=attributes["Attributes"]["QueueArn"],
        BatchSize=5,
        MaximumBatchingWindowInSeconds=1,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        ScalingConfig={"MaximumConcurrency": 2},
        FilterCriteria={"Filters": [{"Pattern": '{"body": ["x"]}'}]},
    )
    return name, layer["LayerArn"].rsplit(":", 1)[1], mapping["UUID"]


def test_every_member_has_the_type_botocores_output_shape_gives_it(
    stack: Stack, lambda_client
) -> None:
    model = json.loads(gzip.open(MODEL).read())
    shapes, operations = model["shapes"], model["operations"]
    name, layer, mapping = realistic_function(stack, lambda_client)
    calls = {
        "GetFunction": f"/2015-03-31/functions/{name}",
        "GetFunctionConfiguration": f"/2015-03-31/functions/{name}/configuration",
        "ListFunctions": "/2015-03-31/functions/?MaxItems=50",
        "ListVersionsByFunction": f"/2015-03-31/functions/{name}/versions",
        "GetAlias": f"/2015-03-31/functions/{name}/aliases/live",
        "GetLayerVersion": f"/2018-10-31/layers/{layer}/versions/1",
        "GetEventSourceMapping": f"/2015-03-31/event-source-mappings/{mapping}",
        "GetFunctionConcurrency": f"/2019-09-30/functions/{name}/concurrency",
    }
    found: list[str] = []
    for operation, path in calls.items():
        status, _, body = raw_request(stack, "GET", path, b"")
        assert status == 200, (operation, body)
        output = operations[operation]["output"]["shape"]
        found += mismatches(shapes, output, body, operation)
    assert found == []


# Credentials of the function's own role.

WHO_AM_I = """import os
def handler(event, context):
    names = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    return {n: os.environ[n] for n in names}
"""


def test_functions_run_with_temporary_credentials_of_their_own_role(
    stack: Stack, lambda_client
) -> None:
    iam = stack.client("iam")
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    identities = {}
    for _ in range(2):
        role_name, name = unique_name("role"), unique_name("who")
        role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=trust)["Role"]
        lambda_client.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role["Arn"],
            Handler="app.handler",
            Code={"ZipFile": zip_of({"app.py": WHO_AM_I})},
        )
        wait_active(lambda_client, name)
        answer = lambda_client.invoke(FunctionName=name)
        credentials = json.load(answer["Payload"])
        assert credentials["AWS_ACCESS_KEY_ID"] != "test"
        caller = boto_sts(stack, credentials).get_caller_identity()
        assert f":assumed-role/{role_name}/{name}" in caller["Arn"]
        identities[name] = caller["Arn"]
    assert len(set(identities.values())) == 2


def boto_sts(stack: Stack, credentials: dict[str, str]):  # type: ignore[no-untyped-def]
    return boto3.client(
        "sts",
        endpoint_url=stack.url,
        region_name="us-east-1",
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=credentials["AWS_SESSION_TOKEN"],
    )
