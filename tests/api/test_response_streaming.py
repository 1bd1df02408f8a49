"""Response streaming against the running stack: InvokeWithResponseStream through boto3 and
RESPONSE_STREAM function URLs through a raw HTTP client, with Node's streamifyResponse
functions whose chunks must arrive while the function still runs."""

from __future__ import annotations

import shutil
import time

import httpx
import pytest

from tests.api.test_function_urls import _allow_anyone, _path_form
from tests.api.test_invoke import create_node_function, needs_node
from tests.functions import ROLE, create_python_function, unique_name, zip_of

NODE_STREAMING = """
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

exports.chunks = awslambda.streamifyResponse(async (event, responseStream) => {
  for (let i = 0; i < 3; i++) {
    responseStream.write(`chunk${i};`);
    await sleep(400);
  }
  responseStream.end();
});

exports.http = awslambda.streamifyResponse(async (event, responseStream) => {
  const stream = awslambda.HttpResponseStream.from(responseStream, {
    statusCode: 201,
    headers: { 'x-streamed': 'yes', 'content-type': 'text/plain' },
    cookies: ['s=1'],
  });
  for (let i = 0; i < 3; i++) {
    stream.write(`part${i};`);
    await sleep(400);
  }
  stream.end();
});

exports.throws = awslambda.streamifyResponse(async (event, responseStream) => {
  responseStream.write('before;');
  await sleep(100);
  throw new TypeError('mid-stream');
});
"""


def _node_streaming_function(lambda_client, handler: str) -> str:  # type: ignore[no-untyped-def]
    return create_node_function(lambda_client, handler, NODE_STREAMING)


def _events(lambda_client, name: str) -> list[tuple[float, dict]]:  # type: ignore[no-untyped-def,type-arg]
    response = lambda_client.invoke_with_response_stream(FunctionName=name, Payload=b"{}")
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    return [(time.monotonic(), event) for event in response["EventStream"]]


@needs_node
def test_boto3_gets_each_chunk_as_the_function_writes_it(lambda_client) -> None:
    name = _node_streaming_function(lambda_client, "chunks")
    _events(lambda_client, name)  # the cold start is not what this measures
    events = _events(lambda_client, name)
    chunks = [(at, e["PayloadChunk"]["Payload"]) for at, e in events if "PayloadChunk" in e]
    assert b"".join(payload for _, payload in chunks) == b"chunk0;chunk1;chunk2;"
    assert chunks[-1][0] - chunks[0][0] > 0.6  # the first came about 0.8 s before the last
    complete = events[-1][1]["InvokeComplete"]
    assert "ErrorCode" not in complete


@needs_node
def test_a_function_that_throws_mid_stream_ends_with_the_error(lambda_client) -> None:
    events = _events(lambda_client, _node_streaming_function(lambda_client, "throws"))
    payload = b"".join(e["PayloadChunk"]["Payload"] for _, e in events if "PayloadChunk" in e)
    assert payload == b"before;"
    complete = events[-1][1]["InvokeComplete"]
    assert complete["ErrorCode"] == "TypeError"
    assert complete["ErrorDetails"] == "mid-stream"


def test_a_python_function_streams_its_whole_result_as_one_chunk(lambda_client) -> None:
    name = unique_name("stream")
    create_python_function(lambda_client, name, "def handler(event, context):\n    return [1, 2]\n")
    events = [event for _, event in _events(lambda_client, name)]
    assert events[0] == {"PayloadChunk": {"Payload": b"[1, 2]"}}
    assert list(events[1]) == ["InvokeComplete"]


@needs_node
def test_response_stream_url_passes_chunks_through_with_the_prelude(stack, lambda_client) -> None:
    name = _node_streaming_function(lambda_client, "http")
    url = lambda_client.create_function_url_config(
        FunctionName=name, AuthType="NONE", InvokeMode="RESPONSE_STREAM"
    )["FunctionUrl"]
    _allow_anyone(lambda_client, name)
    target = _path_form(stack, url) + "/"
    httpx.get(target, timeout=60)  # warm
    arrivals = []
    with httpx.stream("GET", target, timeout=60) as response:
        assert response.status_code == 201
        assert response.headers["x-streamed"] == "yes"
        assert response.headers["set-cookie"] == "s=1"
        for piece in response.iter_raw():
            arrivals.append((time.monotonic(), piece))
    assert b"".join(piece for _, piece in arrivals) == b"part0;part1;part2;"
    assert arrivals[-1][0] - arrivals[0][0] > 0.6


@pytest.mark.parametrize("mode", ["BUFFERED", "RESPONSE_STREAM"])
def test_a_python_url_answers_in_either_invoke_mode(stack, lambda_client, mode: str) -> None:
    name = unique_name("stream")
    code = "def handler(event, context):\n    return {'statusCode': 202, 'body': 'ok'}\n"
    create_python_function(lambda_client, name, code)
    url = lambda_client.create_function_url_config(
        FunctionName=name, AuthType="NONE", InvokeMode=mode
    )["FunctionUrl"]
    _allow_anyone(lambda_client, name)
    response = httpx.get(_path_form(stack, url) + "/", timeout=60)
    assert (response.status_code, response.text) == (202, "ok")


SHELL_BOOTSTRAP = """#!/bin/bash
set -euo pipefail
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation"
while true; do
  HEADERS=$(mktemp)
  curl -sS -D "$HEADERS" -o /dev/null "$API/next"
  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  for i in 0 1 2; do printf 'line%s;' "$i"; sleep 0.4; done |
    curl -sS -o /dev/null -X POST -T - -H 'Expect:' -H 'Transfer-Encoding: chunked' \\
      -H 'Lambda-Runtime-Function-Response-Mode: streaming' "$API/$ID/response"
done
"""


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_a_provided_shell_runtime_streams_through_the_runtime_api(lambda_client) -> None:
    name = unique_name("stream")
    lambda_client.create_function(
        FunctionName=name,
        Runtime="provided.al2023",
        Role=ROLE,
        Handler="unused",
        Code={"ZipFile": zip_of({"bootstrap": SHELL_BOOTSTRAP}, {"bootstrap": 0o755})},
    )
    lambda_client.get_waiter("function_active_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
    )
    events = _events(lambda_client, name)
    chunks = [(at, e["PayloadChunk"]["Payload"]) for at, e in events if "PayloadChunk" in e]
    assert b"".join(payload for _, payload in chunks) == b"line0;line1;line2;"
    assert chunks[-1][0] - chunks[0][0] > 0.6
    assert "ErrorCode" not in events[-1][1]["InvokeComplete"]
