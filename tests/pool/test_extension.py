"""The Parameters and Secrets extension inside functions, against a real moto companion."""

from __future__ import annotations

import json
import socket
import uuid
from typing import Any

import pytest

from bus.messages import InvocationCompleted, Reply
from tests.pool.conftest import Harness, aws, running_pool
from workers.pool.extension.server import ParametersSecretsExtension, lookup

pytestmark = pytest.mark.anyio

# Calls the extension as AWS's examples do: localhost, the port variable, the token header.
APP = """\
import json, os, urllib.error, urllib.request

def handler(event, context):
    port = os.environ["PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"]
    headers = {}
    if event.get("token", "session") == "session":
        headers["X-Aws-Parameters-Secrets-Token"] = os.environ["AWS_SESSION_TOKEN"]
    elif event["token"]:
        headers["X-Aws-Parameters-Secrets-Token"] = event["token"]
    url = f"http://localhost:{port}{event['path']}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=15) as r:
            return {"status": r.status, "body": r.read().decode(), "port": port}
    except urllib.error.HTTPError as error:
        return {"status": error.code, "body": error.read().decode(), "port": port}
"""


def answer(reply: Reply) -> tuple[int, Any]:
    assert isinstance(reply, InvocationCompleted), reply
    assert reply.function_error is None, reply.payload
    result = json.loads(reply.payload)
    try:
        return result["status"], json.loads(result["body"])
    except ValueError:
        return result["status"], result["body"]


async def fetch(harness: Harness, function: Any, path: str, **event: Any) -> tuple[int, Any]:
    return answer(await harness.invoke(function, {"path": path, **event}))


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def test_a_function_reads_a_secret_by_name_and_arn(redis, tmp_path, moto_url):
    secrets = aws(moto_url, "secretsmanager")
    name = unique("db")
    created = secrets.create_secret(Name=name, SecretString='{"password":"hunter2"}')
    async with running_pool(redis, tmp_path, aws_endpoint=moto_url) as pool:
        function = await pool.deploy({"app.py": APP})
        by_name = await fetch(pool, function, f"/secretsmanager/get?secretId={name}")
        arn = created["ARN"]
        by_arn = await fetch(pool, function, f"/secretsmanager/get?secretId={arn}")
        stage = f"/secretsmanager/get?secretId={name}&versionStage=AWSCURRENT"
        by_stage = await fetch(pool, function, stage)
    for status, body in (by_name, by_arn, by_stage):
        assert status == 200
        assert body["Name"] == name
        assert body["ARN"] == arn
        assert body["SecretString"] == '{"password":"hunter2"}'
        assert "AWSCURRENT" in body["VersionStages"]


async def test_requests_without_the_session_token_are_unauthorized(redis, tmp_path, moto_url):
    name = unique("secret")
    aws(moto_url, "secretsmanager").create_secret(Name=name, SecretString="s")
    path = f"/secretsmanager/get?secretId={name}"
    async with running_pool(redis, tmp_path, aws_endpoint=moto_url) as pool:
        function = await pool.deploy({"app.py": APP})
        missing = await fetch(pool, function, path, token=None)
        wrong = await fetch(pool, function, path, token="test")
    assert missing[0] == 401
    assert wrong[0] == 401


async def test_a_function_reads_parameters_by_version_and_decrypted(redis, tmp_path, moto_url):
    ssm = aws(moto_url, "ssm")
    name = f"/app/{uuid.uuid4().hex[:8]}/key"
    ssm.put_parameter(Name=name, Value="one", Type="String")
    ssm.put_parameter(Name=name, Value="two", Type="String", Overwrite=True)
    secure = f"/app/{uuid.uuid4().hex[:8]}/secure"
    ssm.put_parameter(Name=secure, Value="plain", Type="SecureString")
    base = "/systemsmanager/parameters/get?name="
    async with running_pool(redis, tmp_path, aws_endpoint=moto_url) as pool:
        function = await pool.deploy({"app.py": APP})
        latest = await fetch(pool, function, base + name.replace("/", "%2F"))
        first = await fetch(pool, function, f"{base}{name}&version=1")
        decrypted = await fetch(pool, function, f"{base}{secure}&withDecryption=true")
        both = await fetch(pool, function, f"{base}{name}&version=1&label=x")
    assert latest[0] == 200
    assert latest[1]["Parameter"]["Value"] == "two"
    assert first[1]["Parameter"]["Value"] == "one"
    assert decrypted[1]["Parameter"]["Value"] == "plain"
    assert both[0] == 400


async def test_a_missing_secret_passes_the_aws_error_through(redis, tmp_path, moto_url):
    async with running_pool(redis, tmp_path, aws_endpoint=moto_url) as pool:
        function = await pool.deploy({"app.py": APP})
        status, body = await fetch(pool, function, "/secretsmanager/get?secretId=nope-nope")
    assert status == 400
    assert body["__type"].endswith("ResourceNotFoundException")
    assert body["message"] == "Secrets Manager can't find the specified secret."


async def test_secrets_are_cached_unless_the_ttl_is_zero(redis, tmp_path, moto_url):
    secrets = aws(moto_url, "secretsmanager")
    name = unique("rotating")
    secrets.create_secret(Name=name, SecretString="old")
    path = f"/secretsmanager/get?secretId={name}"
    async with running_pool(redis, tmp_path, aws_endpoint=moto_url) as pool:
        cached = await pool.deploy({"app.py": APP})
        uncached = await pool.deploy({"app.py": APP}, environment={"SECRETS_MANAGER_TTL": "0"})
        await fetch(pool, cached, path)
        await fetch(pool, uncached, path)
        secrets.put_secret_value(SecretId=name, SecretString="new")
        from_cache = await fetch(pool, cached, path)
        fresh = await fetch(pool, uncached, path)
    assert from_cache[1]["SecretString"] == "old"
    assert fresh[1]["SecretString"] == "new"


async def test_the_port_a_function_names_is_honoured(redis, tmp_path, moto_url):
    from tests.conftest import free_port

    port = str(free_port())
    name = unique("secret")
    aws(moto_url, "secretsmanager").create_secret(Name=name, SecretString="s")
    variables = {"PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": port}
    async with running_pool(redis, tmp_path, aws_endpoint=moto_url) as pool:
        function = await pool.deploy({"app.py": APP}, environment=variables)
        reply = await pool.invoke(function, {"path": f"/secretsmanager/get?secretId={name}"})
    assert isinstance(reply, InvocationCompleted)
    assert json.loads(reply.payload)["port"] == port
    assert answer(reply)[0] == 200


async def test_without_a_companion_the_extension_answers_502(redis, tmp_path):
    async with running_pool(redis, tmp_path) as pool:
        function = await pool.deploy({"app.py": APP})
        status, _ = await fetch(pool, function, "/secretsmanager/get?secretId=x")
    assert status == 502


async def test_with_its_companion_down_the_extension_answers_502_saying_so(redis, tmp_path):
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{probe.getsockname()[1]}"
    async with running_pool(redis, tmp_path, aws_endpoint=down) as pool:
        function = await pool.deploy({"app.py": APP})
        status, body = await fetch(pool, function, "/secretsmanager/get?secretId=x")
    assert status == 502
    assert body["message"].startswith(f"cannot reach the AWS endpoint: {down} did not answer")


async def test_a_token_is_refused_once_its_environment_is_gone():
    extension = ParametersSecretsExtension(None, 0)
    extension.admit("token-1", {})
    assert (await extension.answer(b"GET", "/nowhere", "token-1"))[0] == 404
    extension.dismiss("token-1")
    assert (await extension.answer(b"GET", "/nowhere", "token-1"))[0] == 401


def test_lookups_name_the_call_and_its_cache_key():
    secret = lookup("/secretsmanager/get?versionStage=AWSPREVIOUS&secretId=a%2Fb")
    assert not isinstance(secret, tuple)
    assert secret.target == "secretsmanager.GetSecretValue"
    assert secret.body == {"SecretId": "a/b", "VersionStage": "AWSPREVIOUS"}
    assert secret.key == "/secretsmanager/get?secretId=a/b&versionStage=AWSPREVIOUS"
    parameter = lookup("/systemsmanager/parameters/get?name=p&label=prod")
    assert not isinstance(parameter, tuple)
    assert parameter.body == {"Name": "p:prod", "WithDecryption": False}
    assert lookup("/secretsmanager/get") == (400, b'{"message":"secretId is required"}')
