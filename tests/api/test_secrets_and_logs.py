"""Inside a function on the running stack: secrets and parameters through the extension on
localhost, and the invocation's log in CloudWatch Logs. Everything goes through Tarn's port.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import Stack
from tests.functions import create_python_function, unique_name
from tests.waiting import wait_for

# Calls the extension the way AWS's documentation shows, with the environment's own token.
EXTENSION_READER = """
import json, os, urllib.error, urllib.request

def get(path, token=True):
    port = os.environ["PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"]
    request = urllib.request.Request(f"http://localhost:{port}{path}")
    if token:
        request.add_header("X-Aws-Parameters-Secrets-Token", os.environ["AWS_SESSION_TOKEN"])
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, None

def handler(event, context):
    print("reading the secret and the parameter")
    status, secret = get(f"/secretsmanager/get?secretId={event['secret']}")
    refused, _ = get(f"/secretsmanager/get?secretId={event['secret']}", token=False)
    _, parameter = get(f"/systemsmanager/parameters/get?name={event['parameter']}")
    return {
        "status": status,
        "secret": secret["SecretString"],
        "refused": refused,
        "parameter": parameter["Parameter"]["Value"],
    }
"""


def test_function_reads_a_secret_and_a_parameter_and_its_report_reaches_logs(
    stack: Stack,
) -> None:
    name = unique_name("secrets")
    stack.client("secretsmanager").create_secret(Name=name, SecretString="s3cr3t")
    stack.client("ssm").put_parameter(Name=f"/{name}/colour", Value="teal", Type="String")
    lambda_client = stack.client()
    create_python_function(lambda_client, name, code=EXTENSION_READER, Timeout=30)
    event = {"secret": name, "parameter": f"/{name}/colour"}
    response = lambda_client.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    result = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, result
    assert result == {"status": 200, "secret": "s3cr3t", "refused": 401, "parameter": "teal"}
    request_id = response["ResponseMetadata"]["RequestId"]
    wait_for(
        lambda: f"REPORT RequestId: {request_id}" in log_messages(stack, name),
        20,
        "the REPORT line in CloudWatch Logs",
    )
    assert "reading the secret and the parameter" in log_messages(stack, name)


def log_messages(stack: Stack, name: str) -> str:
    """The function's log group as the AWS CLI reads it through Tarn's port."""
    env = dict(
        os.environ,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION="us-east-1",
    )
    done = subprocess.run(
        [
            *(sys.executable, "-m", "awscli", "--endpoint-url", stack.url, "logs"),
            *("filter-log-events", "--log-group-name", f"/aws/lambda/{name}"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        return ""  # the group appears with the first delivery
    return "".join(event["message"] for event in json.loads(done.stdout)["events"])
