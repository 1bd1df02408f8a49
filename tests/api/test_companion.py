"""One endpoint: the AWS services around Lambda through Tarn's port, served by the companion.

Every request here goes to the stack's own port; nothing talks to the companion's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
import uuid

import botocore.session
import pytest
from botocore.exceptions import ClientError

from services.routing import is_lambda_path, serves_lambda
from tests.conftest import Stack, free_port, spawn, stop_stack
from tests.functions import ROLE, unique_name, zip_of
from tests.waiting import wait_for

LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
# Runs inside the function with the worker's python, which has boto3: no endpoint named, as
# on AWS; AWS_ENDPOINT_URL and the placeholder credentials come from the environment.
READER = """
import boto3

def handler(event, context):
    sqs, dynamodb = boto3.client("sqs"), boto3.client("dynamodb")
    messages = sqs.receive_message(QueueUrl=event["queue_url"], WaitTimeSeconds=1)
    item = dynamodb.get_item(TableName=event["table"], Key={"id": {"S": "k1"}})["Item"]
    return {"bodies": [m["Body"] for m in messages.get("Messages", [])], "item": item}
"""


def signed(service: str) -> list[tuple[bytes, bytes]]:
    scope = f"Credential=test/20240101/us-east-1/{service}/aws4_request, SignedHeaders=host"
    return [(b"host", b"127.0.0.1"), (b"authorization", b"AWS4-HMAC-SHA256 " + scope.encode())]


def test_routing_follows_the_credential_scope_then_the_target_then_the_path() -> None:
    invoke = "/2015-03-31/functions/f/invocations"
    assert serves_lambda(invoke, b"", signed("lambda"))
    assert not serves_lambda("/", b"", signed("sqs"))
    # A bucket may be named like a Lambda API version: the scope decides.
    assert not serves_lambda("/2015-03-31/functions", b"", signed("s3"))
    assert not serves_lambda("/", b"", [(b"x-amz-target", b"DynamoDB_20120810.ListTables")])
    assert serves_lambda("/_tarn/health", b"", [])
    assert serves_lambda(invoke, b"", [])
    assert not serves_lambda("/bucket/key", b"", [])
    presigned = b"X-Amz-Credential=test%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Expires=9"
    assert not serves_lambda("/2015-03-31/key", presigned, [])


def test_every_lambda_operation_path_is_routed_to_lambda() -> None:
    model = botocore.session.get_session().get_service_model("lambda")
    for name in model.operation_names:
        uri = model.operation_model(name).http["requestUri"]
        assert is_lambda_path(uri), f"{name}: {uri}"
    assert is_lambda_path("/2026-07-09/resource-policy/arn")  # dates botocore may add later
    assert not is_lambda_path("/bucket-2015/key")


def test_health_includes_the_companion(stack: Stack) -> None:
    health = stack.health() or {}
    assert health["components"]["companion"] == "ready"  # type: ignore[index]


def test_boto3_sets_up_sqs_dynamodb_and_iam_and_a_function_reads_them(stack: Stack) -> None:
    sqs, dynamodb, iam = stack.client("sqs"), stack.client("dynamodb"), stack.client("iam")
    name = unique_name("companion")
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert queue_url.startswith(stack.url)  # the queue's URL names Tarn's port, not moto's
    sqs.send_message(QueueUrl=queue_url, MessageBody="hello from sqs")
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    dynamodb.put_item(TableName=name, Item={"id": {"S": "k1"}, "value": {"S": "v1"}})
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    lambda_client = stack.client()
    assert role["Role"]["Arn"] == f"arn:aws:iam::000000000000:role/{name}"  # Tarn's account
    lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": READER})},
        Timeout=30,
    )
    _wait_active(lambda_client, name)
    event = {"queue_url": queue_url, "table": name}
    response = lambda_client.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    result = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, result
    assert result == {
        "bodies": ["hello from sqs"],
        "item": {"id": {"S": "k1"}, "value": {"S": "v1"}},
    }
    streams = stack.client("dynamodbstreams").list_streams(TableName=name)["Streams"]
    assert [s["TableName"] for s in streams] == [name]


def test_the_aws_cli_reaches_sqs_through_the_one_endpoint(stack: Stack) -> None:
    name = unique_name("cli")
    credentials = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
    env = os.environ | credentials | {"AWS_DEFAULT_REGION": "us-east-1"}
    created = subprocess.run(
        ["aws", "--endpoint-url", stack.url, "sqs", "create-queue", "--queue-name", name],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    queue_url = json.loads(created.stdout)["QueueUrl"]
    assert stack.client("sqs").get_queue_url(QueueName=name)["QueueUrl"] == queue_url


def test_sqs_query_protocol_is_forwarded_unchanged(stack: Stack) -> None:
    request = urllib.request.Request(
        stack.url + "/",
        data=b"Action=ListQueues&Version=2012-11-05",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": dict(signed("sqs"))[b"authorization"].decode(),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert b"<ListQueuesResponse" in response.read()


def test_s3_objects_stream_through_intact(stack: Stack) -> None:
    s3 = stack.client("s3")
    bucket = unique_name("bucket")
    s3.create_bucket(Bucket=bucket)
    data = os.urandom(3 * 1024 * 1024)
    s3.put_object(Bucket=bucket, Key="dir/blob with space.bin", Body=data)
    got = s3.get_object(Bucket=bucket, Key="dir/blob with space.bin")
    assert got["ContentLength"] == len(data)
    assert got["Body"].read() == data


def test_functions_are_created_and_updated_from_s3(stack: Stack) -> None:
    s3, lambda_client = stack.client("s3"), stack.client()
    bucket, name = unique_name("code"), unique_name()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="v1.zip", Body=zip_of({"app.py": _returns("one")}))
    s3.put_object(Bucket=bucket, Key="v2.zip", Body=zip_of({"app.py": _returns("two")}))
    lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"S3Bucket": bucket, "S3Key": "v1.zip"},
    )
    _wait_active(lambda_client, name)
    assert _invoke(lambda_client, name) == "one"
    lambda_client.update_function_code(FunctionName=name, S3Bucket=bucket, S3Key="v2.zip")
    updated = lambda_client.get_waiter("function_updated_v2")
    updated.wait(FunctionName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
    assert _invoke(lambda_client, name) == "two"


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("key", "S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist."),
        (
            "bucket",
            "S3 Error Code: NoSuchBucket. S3 Error Message: The specified bucket does not exist",
        ),
    ],
)
def test_missing_s3_code_is_aws_s_error(stack: Stack, missing: str, message: str) -> None:
    s3, lambda_client = stack.client("s3"), stack.client()
    bucket = unique_name("code")
    if missing == "key":
        s3.create_bucket(Bucket=bucket)
    with pytest.raises(ClientError) as raised:
        lambda_client.create_function(
            FunctionName=unique_name(),
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"S3Bucket": bucket, "S3Key": "absent.zip"},
        )
    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidParameterValueException"
    assert error["Message"] == f"Error occurred while GetObject. {message}"


def _wait_active(lambda_client, name: str) -> None:  # type: ignore[no-untyped-def]
    waiter = lambda_client.get_waiter("function_active_v2")
    waiter.wait(FunctionName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})


def _returns(value: str) -> str:
    return f"def handler(event, context):\n    return {value!r}\n"


def _invoke(lambda_client, name: str) -> object:  # type: ignore[no-untyped-def]
    return json.loads(lambda_client.invoke(FunctionName=name)["Payload"].read())


def test_unknown_paths_without_a_scope_reach_the_companion(stack: Stack) -> None:
    marker = uuid.uuid4().hex
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(f"{stack.url}/{marker}/absent", timeout=10)
    assert b"NoSuchBucket" in raised.value.read()  # S3's answer: moto's last resort


def test_aws_endpoint_names_another_endpoint_instead_of_moto(stack: Stack, tmp_path) -> None:
    # The other endpoint is the session's stack itself: AWS-compatible, on its one port.
    port = free_port()
    argv = [sys.executable, "-m", "services.cli", "up", "--port", str(port), "--executor"]
    argv += ["process", "--data-dir", str(tmp_path / "data"), "--aws-endpoint", stack.url]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TARN_")}
    process = spawn(argv, tmp_path / "tarn.log", env, "wb")
    other = Stack(f"http://127.0.0.1:{port}", tmp_path / "data", process, tmp_path / "tarn.log")
    try:
        wait_for(lambda: (other.health() or {}).get("status") == "ready", 60, "the stack")
        name = unique_name("other")
        queue_url = other.client("sqs").create_queue(QueueName=name)["QueueUrl"]
        # Headers travel unchanged, Host included: each stack's answer names its own port.
        found = stack.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]
        assert found.replace(stack.url, other.url) == queue_url
        assert not (tmp_path / "data" / "companion.log").exists()  # no moto of its own
    finally:
        assert stop_stack(other) == 0
