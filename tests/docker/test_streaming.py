"""Response streaming with the Docker executor: a Node.js streamifyResponse function in a
container streams through InvokeWithResponseStream as it does with the process executor."""

from __future__ import annotations

import time

from tests.api.test_response_streaming import NODE_STREAMING
from tests.docker.test_invoke import wait_active
from tests.functions import ROLE, unique_name, zip_of


def test_node_function_in_a_container_streams_its_chunks(docker_client) -> None:
    name = unique_name("stream")
    docker_client.create_function(
        FunctionName=name,
        Runtime="nodejs20.x",
        Role=ROLE,
        Handler="index.chunks",
        Code={"ZipFile": zip_of({"index.js": NODE_STREAMING})},
    )
    wait_active(docker_client, name)
    response = docker_client.invoke_with_response_stream(FunctionName=name, Payload=b"{}")
    arrivals = [(time.monotonic(), event) for event in response["EventStream"]]
    chunks = [(at, e["PayloadChunk"]["Payload"]) for at, e in arrivals if "PayloadChunk" in e]
    assert b"".join(payload for _, payload in chunks) == b"chunk0;chunk1;chunk2;"
    assert chunks[-1][0] - chunks[0][0] > 0.6
    assert "ErrorCode" not in arrivals[-1][1]["InvokeComplete"]
