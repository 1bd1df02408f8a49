"""bus.aws.Companion against a real moto companion, and against a port nothing listens on."""

from __future__ import annotations

import socket
import sys

import pytest

from bus.aws import FIRST_CALL_MODULES, UNREACHABLE, Companion, CompanionError

pytestmark = pytest.mark.anyio


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


async def test_ready_once_the_endpoint_takes_connections(moto_url: str) -> None:
    up, down = Companion(moto_url, "us-east-1"), Companion(closed_port_url(), "us-east-1")
    try:
        assert await up.ready()
        assert not await down.ready()
    finally:
        await up.aclose()
        await down.aclose()


async def test_a_call_nobody_answers_raises_companion_error_saying_where(moto_url: str) -> None:
    url = closed_port_url()
    down = Companion(url, "us-east-1")
    with pytest.raises(CompanionError) as raised:
        await down.ok("sqs", "AmazonSQS.ListQueues", {})
    await down.aclose()
    assert raised.value.unreachable and raised.value.code == UNREACHABLE
    assert raised.value.message.startswith(f"{url} did not answer (ConnectError")
    up = Companion(moto_url, "us-east-1")
    with pytest.raises(CompanionError) as refused:  # an AWS error is not "unreachable"
        await up.ok("sqs", "AmazonSQS.GetQueueUrl", {"QueueName": "no-such-queue"})
    await up.aclose()
    assert not refused.value.unreachable and refused.value.status == 400


async def test_warm_up_imports_what_a_first_call_needs(moto_url: str) -> None:
    companion = Companion(moto_url, "us-east-1")
    await companion.warm_up(after_s=0)
    assert all(name in sys.modules for name in FIRST_CALL_MODULES)
    answer = await companion.query("sts", "GetCallerIdentity", "2011-06-15", {})
    assert answer.tag.endswith("GetCallerIdentityResponse")
    await companion.aclose()
