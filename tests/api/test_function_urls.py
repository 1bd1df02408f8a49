"""Function URLs over plain HTTP against the running stack: both URL forms, the payload 2.0
event, response mapping, NONE and AWS_IAM auth, CORS, and URLs on aliases."""

from __future__ import annotations

import base64
import json
import subprocess
import time
from urllib.parse import urlsplit

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.functions import create_python_function, unique_name

APP = """
import base64, json

def handler(event, context):
    path = event["rawPath"]
    if path == "/echo":
        return {"statusCode": 200, "body": json.dumps(event)}
    if path == "/cookies":
        return {"statusCode": 201, "headers": {"X-Custom": "yes"},
                "cookies": ["a=1; Path=/", "b=2"], "body": "made"}
    if path == "/binary":
        return {"statusCode": 200, "headers": {"Content-Type": "image/png"},
                "body": base64.b64encode(b"\\x89PNG\\x00\\xff").decode(), "isBase64Encoded": True}
    if path == "/plain":
        return {"answer": 42}
    if path == "/arn":
        return {"statusCode": 200, "body": context.invoked_function_arn}
    raise RuntimeError("boom")
"""
CORS = {
    "AllowOrigins": ["https://app.example"],
    "AllowMethods": ["GET", "POST"],
    "AllowHeaders": ["x-token"],
    "ExposeHeaders": ["x-custom"],
    "MaxAge": 300,
}


def _url_function(lambda_client, auth_type: str = "NONE", **url_config) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A function with a URL (and, for NONE, the permission the console adds): name, URL."""
    name = unique_name("url")
    create_python_function(lambda_client, name, APP)
    url = lambda_client.create_function_url_config(
        FunctionName=name, AuthType=auth_type, **url_config
    )["FunctionUrl"]
    if auth_type == "NONE":
        _allow_anyone(lambda_client, name)
    return name, url


def _allow_anyone(lambda_client, name: str, qualifier: str | None = None) -> None:  # type: ignore[no-untyped-def]
    extra = {"Qualifier": qualifier} if qualifier else {}
    lambda_client.add_permission(
        FunctionName=name,
        StatementId="FunctionURLAllowPublicAccess",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
        **extra,
    )


def _path_form(stack, url: str) -> str:  # type: ignore[no-untyped-def]
    url_id = urlsplit(url).hostname.split(".")[0]  # type: ignore[union-attr]
    return f"{stack.url}/_tarn/urls/{url_id}"


def test_url_event_is_payload_format_2_on_both_url_forms(stack, lambda_client) -> None:
    _, url = _url_function(lambda_client)
    host = urlsplit(url).netloc
    headers = [("Cookie", "c1=v1; c2=v2"), ("X-Multi", "one"), ("X-Multi", "two")]
    query = "?a=1&a=2&b=3"
    by_host = httpx.post(
        f"{stack.url}/echo{query}", headers=[*headers, ("Host", host)], content=b"hi"
    )
    by_path = httpx.post(_path_form(stack, url) + "/echo" + query, headers=headers, content=b"hi")
    for response in (by_host, by_path):
        assert response.status_code == 200, response.text
        event = response.json()
        assert event["version"] == "2.0" and event["routeKey"] == "$default"
        assert event["rawPath"] == "/echo" and event["rawQueryString"] == "a=1&a=2&b=3"
        assert event["queryStringParameters"] == {"a": "1,2", "b": "3"}
        assert event["cookies"] == ["c1=v1", "c2=v2"]
        assert event["headers"]["x-multi"] == "one,two" and "cookie" not in event["headers"]
        assert event["headers"]["x-forwarded-proto"] == "http"
        assert event["headers"]["x-forwarded-for"] == "127.0.0.1"
        assert event["headers"]["x-amzn-trace-id"].startswith("Root=1-")
        assert event["body"] == base64.b64encode(b"hi").decode()  # no text content type
        assert event["isBase64Encoded"] is True
        context = event["requestContext"]
        assert context["http"]["method"] == "POST" and context["http"]["path"] == "/echo"
        assert context["http"]["sourceIp"] == "127.0.0.1"
        assert context["http"]["userAgent"].startswith("python-httpx")
        assert context["domainName"] == host.split(":")[0]
        assert context["accountId"] == "anonymous" and context["requestId"]
        assert isinstance(context["timeEpoch"], int)
    text = httpx.post(f"{_path_form(stack, url)}/echo", json={"k": "v"}).json()
    assert (text["body"], text["isBase64Encoded"]) == ('{"k":"v"}', False)


def test_host_form_answers_curl_with_resolve(stack, lambda_client) -> None:
    _, url = _url_function(lambda_client)
    parts = urlsplit(url)
    resolve = f"{parts.hostname}:{parts.port}:127.0.0.1"
    out = subprocess.run(
        ["curl", "-s", "--max-time", "60", "--resolve", resolve, url + "plain"],
        capture_output=True,
        timeout=90,
        check=True,
    )
    assert json.loads(out.stdout) == {"answer": 42}


def test_url_responses_are_mapped_as_aws_maps_them(stack, lambda_client) -> None:
    _, url = _url_function(lambda_client)
    base = _path_form(stack, url)
    made = httpx.get(base + "/cookies")
    assert made.status_code == 201 and made.text == "made"
    assert made.headers["content-length"] == "4"
    assert made.headers["x-custom"] == "yes"
    assert made.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2"]
    binary = httpx.get(base + "/binary")
    assert binary.content == b"\x89PNG\x00\xff"
    assert binary.headers["content-type"] == "image/png"
    plain = httpx.get(base + "/plain")
    assert plain.status_code == 200 and plain.json() == {"answer": 42}
    assert plain.headers["content-type"] == "application/json"
    failed = httpx.get(base + "/raise")
    assert (failed.status_code, failed.text) == (502, "Internal Server Error")


def test_none_url_without_the_permission_is_forbidden(stack, lambda_client) -> None:
    name = unique_name("url")
    create_python_function(lambda_client, name, APP)
    url = lambda_client.create_function_url_config(FunctionName=name, AuthType="NONE")
    response = httpx.get(_path_form(stack, url["FunctionUrl"]) + "/plain")
    assert response.status_code == 403
    assert response.json() == {"Message": "Forbidden"}
    unknown = httpx.get(f"{stack.url}/_tarn/urls/{'x' * 32}/plain")
    assert unknown.status_code == 403


def _signed(url: str, secret: str, host: str | None = None) -> dict[str, str]:
    request = AWSRequest(method="GET", url=url, headers={"Host": host} if host else {})
    SigV4Auth(Credentials("AKIDEXAMPLE", secret), "lambda", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def test_iam_url_takes_only_sigv4_signed_requests(stack, lambda_client) -> None:
    _, url = _url_function(lambda_client, "AWS_IAM")
    target = _path_form(stack, url) + "/echo"
    assert httpx.get(target).status_code == 403
    assert httpx.get(target, headers=_signed(target, "wrong")).status_code == 403
    signed = httpx.get(target, headers=_signed(target, "test"))
    assert signed.status_code == 200, signed.text
    authorizer = signed.json()["requestContext"]["authorizer"]
    assert authorizer["iam"]["accessKey"] == "AKIDEXAMPLE"
    host = urlsplit(url).netloc
    by_host = httpx.get(f"{stack.url}/echo", headers=_signed(f"http://{host}/echo", "test", host))
    assert by_host.status_code == 200, by_host.text


def test_cors_preflight_is_answered_and_responses_carry_cors(stack, lambda_client) -> None:
    _, url = _url_function(lambda_client, Cors=CORS)
    base = _path_form(stack, url)
    preflight = httpx.options(
        base + "/cookies",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    assert preflight.headers["access-control-allow-methods"] == "GET,POST"
    assert preflight.headers["access-control-allow-headers"] == "x-token"
    assert preflight.headers["access-control-max-age"] == "300"
    stranger = httpx.options(
        base + "/cookies",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in stranger.headers
    actual = httpx.get(base + "/cookies", headers={"Origin": "https://app.example"})
    assert actual.headers["access-control-allow-origin"] == "https://app.example"
    assert actual.headers["access-control-expose-headers"] == "x-custom"


def test_url_on_an_alias_invokes_the_alias(stack, lambda_client) -> None:
    name = unique_name("url")
    create_python_function(lambda_client, name, APP, Publish=True)
    lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    url = lambda_client.create_function_url_config(
        FunctionName=name, Qualifier="live", AuthType="NONE"
    )["FunctionUrl"]
    _allow_anyone(lambda_client, name, "live")
    response = httpx.get(_path_form(stack, url) + "/arn")
    assert response.status_code == 200, response.text
    assert response.text.endswith(f":function:{name}:live")


@pytest.mark.parametrize("method", ["DELETE", "PUT"])
def test_deleted_url_is_forbidden(stack, lambda_client, method: str) -> None:
    name, url = _url_function(lambda_client)
    lambda_client.delete_function_url_config(FunctionName=name)
    assert httpx.request(method, _path_form(stack, url) + "/plain").status_code == 403


def test_throttled_url_answers_429_and_oversized_requests_413(stack, lambda_client) -> None:
    name, url = _url_function(lambda_client)
    base = _path_form(stack, url)
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    time.sleep(1.2)  # reservations are read once a second (bus/concurrency.py)
    throttled = httpx.get(base + "/plain", timeout=60)
    assert throttled.status_code == 429
    too_large = httpx.post(base + "/echo", content=b"x" * 6_291_457, timeout=60)
    assert too_large.status_code == 413
