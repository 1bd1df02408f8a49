"""Function logs in the companion's CloudWatch Logs, one stream per environment, as on AWS."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import anyio
import pytest

from bus.messages import InvocationCompleted, Reply
from tests.conftest import free_port
from tests.pool.conftest import aws, running_pool
from workers.pool.cloudwatch import (
    EVENT_OVERHEAD_BYTES,
    MAX_BATCH_BYTES,
    MAX_BATCH_EVENTS,
    MAX_EVENT_BYTES,
    chunks,
)

pytestmark = pytest.mark.anyio

APP = """\
import os

print("init line")

def handler(event, context):
    print("hello from", context.aws_request_id)
    return {
        "group": os.environ["AWS_LAMBDA_LOG_GROUP_NAME"],
        "stream": os.environ["AWS_LAMBDA_LOG_STREAM_NAME"],
    }
"""


def result(reply: Reply) -> Any:
    assert isinstance(reply, InvocationCompleted), reply
    return json.loads(reply.payload)


async def messages_when(logs: Any, group: str, stream: str, needle: str) -> list[str]:
    """The stream's messages once one contains `needle`; fails after 10 s."""
    with anyio.fail_after(10):
        while True:
            try:
                events = logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]
            except logs.exceptions.ResourceNotFoundException:
                events = []
            messages = [event["message"] for event in events]
            if any(needle in message for message in messages):
                return messages
            await anyio.sleep(0.05)


async def test_an_invocations_log_reaches_its_group_and_stream(redis, tmp_path, moto_url):
    async with running_pool(redis, tmp_path, aws_endpoint=moto_url) as pool:
        function = await pool.deploy({"app.py": APP})
        reply = await pool.invoke(function)
        second = await pool.invoke(function)
        where = result(reply)
        logs = aws(moto_url, "logs")
        messages = await messages_when(
            logs, where["group"], where["stream"], f"REPORT RequestId: {second.request_id}"
        )
    assert where["group"] == f"/aws/lambda/{function.name}"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", where["stream"])
    assert result(second)["stream"] == where["stream"]  # one stream per environment
    assert messages[0] == "init line"
    assert messages[1] == f"START RequestId: {reply.request_id} Version: $LATEST"
    assert f"hello from {reply.request_id}" in messages
    assert f"END RequestId: {reply.request_id}" in messages
    assert any(m.startswith(f"REPORT RequestId: {reply.request_id}\tDuration: ") for m in messages)


async def test_a_log_reaches_cloudwatch_within_2_s_and_invocations_share_a_batch(
    redis, tmp_path, moto_url
):
    async with running_pool(redis, tmp_path, aws_endpoint=moto_url) as pool:
        function = await pool.deploy({"app.py": APP})
        replies = [await pool.invoke(function) for _ in range(5)]
        where, logs = result(replies[0]), aws(moto_url, "logs")
        with anyio.fail_after(2):  # from the last reply
            await messages_when(
                logs, where["group"], where["stream"], f"REPORT RequestId: {replies[-1].request_id}"
            )
        streams = logs.describe_log_streams(logGroupName=where["group"])["logStreams"]
    # Five invocations within the batch window: one PutLogEvents, not five.
    assert [s["uploadSequenceToken"] for s in streams] == ["1"]


async def test_the_last_batch_is_sent_when_the_pool_stops(redis, tmp_path, moto_url):
    async with running_pool(redis, tmp_path, aws_endpoint=moto_url) as pool:
        function = await pool.deploy({"app.py": APP})
        reply = await pool.invoke(function)
    where = result(reply)  # the pool is closed now, well within the batch window
    events = aws(moto_url, "logs").get_log_events(
        logGroupName=where["group"], logStreamName=where["stream"]
    )["events"]
    assert f"END RequestId: {reply.request_id}" in [event["message"] for event in events]


async def test_a_logging_config_log_group_is_used(redis, tmp_path, moto_url):
    async with running_pool(redis, tmp_path, aws_endpoint=moto_url) as pool:
        function = await pool.deploy({"app.py": APP}, log_group="/custom/tarn-tests")
        reply = await pool.invoke(function)
        where = result(reply)
        logs = aws(moto_url, "logs")
        await messages_when(logs, "/custom/tarn-tests", where["stream"], "REPORT RequestId")
    assert where["group"] == "/custom/tarn-tests"


async def test_invokes_go_on_when_the_companion_is_down(redis, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="tarn.pool")
    nowhere = f"http://127.0.0.1:{free_port()}"
    async with running_pool(redis, tmp_path, aws_endpoint=nowhere) as pool:
        function = await pool.deploy({"app.py": APP})
        with anyio.fail_after(15):
            for _ in range(3):
                assert result(await pool.invoke(function))["stream"]
            while "cannot deliver function logs" not in caplog.text:  # noqa: ASYNC110
                await anyio.sleep(0.05)
    assert caplog.text.count("cannot deliver function logs") == 1  # once per outage


def test_batches_keep_within_put_log_events_limits():
    events = [(1, "x")] * (MAX_BATCH_EVENTS + 5) + [(2, "")] + [(3, "y" * 300_000)]
    sent = list(chunks(events))
    assert [len(chunk) for chunk in sent] == [MAX_BATCH_EVENTS, 6]
    assert len(str(sent[1][-1]["message"]).encode()) == 256 * 1024 - 26


def test_non_ascii_lines_count_and_cut_by_their_bytes():
    wide = [(1, "é" * 1_000)] * 600  # 2,000 bytes each, 1,000 characters
    sent = list(chunks([*wide, (2, "€" * 100_000)]))
    per_chunk = MAX_BATCH_BYTES // (2_000 + EVENT_OVERHEAD_BYTES)
    assert [len(chunk) for chunk in sent] == [per_chunk, 600 - per_chunk + 1]
    cut = str(sent[-1][-1]["message"]).encode()
    assert len(cut) <= MAX_EVENT_BYTES and cut.decode() == "€" * (len(cut) // 3)
