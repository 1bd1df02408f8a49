"""`docker compose up` on the repository's compose.yaml, as a user runs it: Tarn's image built on
a locally made base, the stack healthy, boto3 through 127.0.0.1; invokes (process executor in
the pool container, and Docker when the stand-in runtime images build), Event invokes, an SQS
mapping; scaled to 3 pools and 2 async workers, plus a pool joined as from another machine
(`tarn worker pool --redis-url ... --aws-endpoint ...` in a container of its own), with invokes
served by every pool; a pool container SIGKILLed mid-burst without losing an event; `down`
leaving no container; data kept across `down` + `up`.

Skips, saying why, without a Docker engine or compose. The tests run in order on one stack.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.compose.stack import ComposeStack, compose_command, compose_env
from tests.conftest import free_port
from tests.functions import ROLE, zip_of
from workers.docker.engine import EngineUnavailable, describe, open_engine

# The first test on a machine builds Tarn's image (80 s idle, 4 min on a loaded machine).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

HANDLER = """\
import os, socket, time

def handler(event, context):
    time.sleep(event.get("sleep", 0) if isinstance(event, dict) else 0)
    return {"host": socket.gethostname(), "cwd": os.getcwd(),
            "id": event.get("id") if isinstance(event, dict) else None}
"""
UP_TIMEOUT_S = 180


def engine_answers() -> str | None:
    async def ask() -> str:
        docker = open_engine()
        try:
            return await describe(docker)
        finally:
            await docker.close()

    try:
        asyncio.run(ask())
    except EngineUnavailable as exc:
        return str(exc)
    return None


@pytest.fixture(scope="module")
def images(pytestconfig: pytest.Config) -> dict[str, str]:
    """Tarn's image, the Redis stand-in and, if they build, the stand-in runtime images."""
    problem = engine_answers()
    if problem is not None:
        pytest.skip(f"the compose test needs a Docker engine: {problem}")
    if compose_command() is None:
        pytest.skip("the compose test needs `docker compose` (v2) or `docker-compose` (v1)")
    from tests.compose.images import ensure_image, ensure_redis
    from tests.docker.images.build import build_all

    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():  # type: ignore[union-attr]
        built = {"tarn": ensure_image(), "redis": ensure_redis()}
        try:
            built["python3.12"] = asyncio.run(build_all()).runtimes["python3.12"]
        except Exception as exc:  # the Docker executor's test skips, saying why
            built["no-runtime-images"] = f"the stand-in runtime images did not build: {exc}"
    return built


@pytest.fixture(scope="module")
def stack(images: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    project = f"tarntest{uuid.uuid4().hex[:8]}"
    port = free_port()
    command = compose_command()
    assert command is not None
    running = ComposeStack(
        command,
        project,
        port,
        tmp_path_factory.mktemp("compose"),
        compose_env(project, port, images["tarn"], images["redis"]),
        settings={
            # python3.12 runs in the stand-in image; python3.11 has none: the process executor.
            "TARN_IMAGE_OVERRIDES": f"python3.12={images.get('python3.12', 'none:none')}",
            # A killed pool's entries are taken over after 3 s instead of 30; retries after 1 s.
            "TARN_VISIBILITY_TIMEOUT_MS": "3000",
            "TARN_ASYNC_RETRY_BASE_S": "1",
        },
    )
    try:
        started = time.monotonic()
        running.compose("up", "-d", "--no-build")
        took = running.wait_ready(UP_TIMEOUT_S)
        print(f"compose up to healthy: {time.monotonic() - started:.1f} s (health {took:.1f} s)")
        yield running
    finally:
        running.destroy()
        assert running.containers(every=True) == [], "compose down left containers behind"


@pytest.fixture(scope="module")
def functions(stack: ComposeStack) -> dict[str, str]:
    """A process-executor function (python3.11) and a Docker one (python3.12), Active."""
    client = stack.client("lambda")
    names = {"process": f"proc-{uuid.uuid4().hex[:8]}", "docker": f"dock-{uuid.uuid4().hex[:8]}"}
    runtimes = {"process": "python3.11", "docker": "python3.12"}
    for kind, name in names.items():
        client.create_function(
            FunctionName=name,
            Runtime=runtimes[kind],
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": zip_of({"app.py": HANDLER})},
            Timeout=3,
        )
    for name in names.values():
        client.get_waiter("function_active_v2").wait(
            FunctionName=name, WaiterConfig={"Delay": 0.5, "MaxAttempts": 120}
        )
    return names


def invoke(stack: ComposeStack, name: str, event: dict[str, Any]) -> dict[str, Any]:
    answer = stack.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event))
    payload = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, payload
    return dict(payload)


def destination_queue(stack: ComposeStack, function: str) -> str:
    """An SQS queue that receives the function's successful Event invocations."""
    sqs = stack.client("sqs")
    url = sqs.create_queue(QueueName=f"done-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    stack.client("lambda").put_function_event_invoke_config(
        FunctionName=function,
        MaximumRetryAttempts=2,
        DestinationConfig={"OnSuccess": {"Destination": arn["QueueArn"]}},
    )
    return str(url)


def delivered_ids(stack: ComposeStack, url: str, wanted: set[str], timeout_s: float) -> set[str]:
    """The event ids that reached the destination queue, until all of `wanted` did."""
    sqs, seen = stack.client("sqs"), set()
    deadline = time.monotonic() + timeout_s
    while not wanted <= seen and time.monotonic() < deadline:
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in answer.get("Messages", []):
            seen.add(json.loads(message["Body"])["responsePayload"]["id"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return seen


def test_health_names_every_role_once(stack: ComposeStack) -> None:
    body = stack.health()
    assert body is not None and body["status"] == "ready", body
    assert body["instances"] == {"functions": 1, "pool": 1, "async": 1, "event_sources": 1}


def test_invoke_in_the_pool_container(stack: ComposeStack, functions: dict[str, str]) -> None:
    pools = set(stack.containers("pool"))
    in_process = invoke(stack, functions["process"], {"id": "p"})
    assert any(pool.startswith(in_process["host"]) for pool in pools), (in_process, pools)
    assert in_process["cwd"].startswith("/var/lib/tarn/code/")


def test_invoke_in_a_function_container(
    stack: ComposeStack, functions: dict[str, str], images: dict[str, str]
) -> None:
    if "python3.12" not in images:
        pytest.skip(images["no-runtime-images"])
    in_docker = invoke(stack, functions["docker"], {"id": "d"})
    assert in_docker["cwd"] == "/var/task" and in_docker["id"] == "d"


def test_event_invokes_and_an_sqs_mapping(stack: ComposeStack, functions: dict[str, str]) -> None:
    url = destination_queue(stack, functions["process"])
    lam = stack.client("lambda")
    ids = {f"e{n}" for n in range(10)}
    for event_id in ids:
        answer = lam.invoke(
            FunctionName=functions["process"],
            InvocationType="Event",
            Payload=json.dumps({"id": event_id}),
        )
        assert answer["StatusCode"] == 202
    assert delivered_ids(stack, url, ids, 60) == ids
    assert_mapping_drains(stack, functions["process"])


def assert_mapping_drains(stack: ComposeStack, function: str) -> None:
    """A new SQS queue mapped to `function` is emptied of a batch sent to it."""
    lam, sqs = stack.client("lambda"), stack.client("sqs")
    source = sqs.create_queue(QueueName=f"src-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["QueueArn"])["Attributes"]
    lam.create_event_source_mapping(
        EventSourceArn=arn["QueueArn"], FunctionName=function, BatchSize=10
    )
    sqs.send_message_batch(
        QueueUrl=source,
        Entries=[{"Id": str(n), "MessageBody": json.dumps({"n": n})} for n in range(5)],
    )
    deadline = time.monotonic() + 60
    while (left := queue_depth(stack, source)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert left == 0, "the mapping did not consume the batch"


def queue_depth(stack: ComposeStack, url: str) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = stack.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=names)
    return sum(int(attributes["Attributes"][name]) for name in names)


def pool_elsewhere(stack: ComposeStack, image: str) -> str:
    """A pool as on another machine: its own container and address, no Docker socket (so the
    process executor), joined with `tarn worker pool --redis-url ... --aws-endpoint ...`."""
    argv = ["docker", "run", "-d", "--rm", "--init", "--network", f"{stack.project}_default"]
    argv += ["--label", f"tarn.stack={stack.project}", image, "worker", "pool"]
    argv += ["--redis-url", "redis://redis:6379/0", "--aws-endpoint", "http://companion:4567"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.strip()[:12]  # its hostname


def test_scaled_out_every_pool_serves(
    stack: ComposeStack, functions: dict[str, str], images: dict[str, str]
) -> None:
    stack.compose(
        "up", "-d", "--no-build", "--no-recreate",
        "--scale", "pool=3", "--scale", "async=2", "--scale", "event_sources=2",
    )  # fmt: skip
    elsewhere = pool_elsewhere(stack, images["tarn"])
    stack.wait_ready(UP_TIMEOUT_S, {"pool": 4, "async": 2, "event_sources": 2})
    pools = [container[:12] for container in stack.containers("pool")]
    assert len(pools) == 3
    hosts: set[str] = set()
    deadline = time.monotonic() + 90
    with ThreadPoolExecutor(8) as threads:
        while len(hosts) < 4 and time.monotonic() < deadline:
            events = [{"id": str(n), "sleep": 0.3} for n in range(8)]
            for answer in threads.map(lambda e: invoke(stack, functions["process"], e), events):
                hosts.add(answer["host"])
    assert hosts == {*pools, elsewhere}, f"served by {hosts}; pools {pools} and {elsewhere}"
    subprocess.run(["docker", "rm", "-f", elsewhere], capture_output=True, timeout=60)
    assert_mapping_drains(stack, functions["process"])  # two pollers now, one holds its lease


def test_a_pool_killed_mid_burst_loses_no_event(
    stack: ComposeStack, functions: dict[str, str]
) -> None:
    url = destination_queue(stack, functions["process"])
    lam = stack.client("lambda")
    ids = [f"k{n}" for n in range(40)]
    victim = stack.containers("pool")[0]
    for n, event_id in enumerate(ids):
        payload = json.dumps({"id": event_id, "sleep": 0.2})
        lam.invoke(FunctionName=functions["process"], InvocationType="Event", Payload=payload)
        if n == 15:
            kill = ["docker", "kill", "-s", "KILL", victim]
            subprocess.run(kill, check=True, capture_output=True, timeout=60)
    started = time.monotonic()
    assert delivered_ids(stack, url, set(ids), 120) >= set(ids)
    print(f"all {len(ids)} events delivered {time.monotonic() - started:.1f} s after the burst")


def test_down_and_up_keeps_the_data(stack: ComposeStack, functions: dict[str, str]) -> None:
    queues_before = stack.client("sqs").list_queues().get("QueueUrls", [])
    stack.compose("down", "--timeout", "10")
    stack.remove_function_containers()  # those of the pool killed above
    assert stack.containers(every=True) == []
    stack.compose("up", "-d", "--no-build")
    stack.wait_ready(UP_TIMEOUT_S)
    assert invoke(stack, functions["process"], {"id": "again"})["id"] == "again"
    queues_after = stack.client("sqs").list_queues().get("QueueUrls", [])
    assert {Path(q).name for q in queues_before} <= {Path(q).name for q in queues_after}
