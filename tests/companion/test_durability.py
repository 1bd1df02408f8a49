"""The companion's state survives `tarn up` restarts and a SIGKILL of the companion on the same
data dir: queues with their messages, tables with their items, secrets, parameters, S3 objects
and log groups."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.conftest import Stack, start_stack, stop_stack
from tests.waiting import wait_for

SNAPSHOT_INTERVAL_S = 1.0


def put_state(stack: Stack, suffix: str) -> None:
    sqs = stack.client("sqs")
    queue = sqs.create_queue(QueueName=f"q-{suffix}")["QueueUrl"]
    for body in ("one", "two", "three"):
        sqs.send_message(QueueUrl=queue, MessageBody=f"{body}-{suffix}")
    dynamodb = stack.client("dynamodb")
    dynamodb.create_table(
        TableName=f"t-{suffix}",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName=f"t-{suffix}", Item={"id": {"S": "k"}, "v": {"S": suffix}})
    stack.client("secretsmanager").create_secret(Name=f"s-{suffix}", SecretString=suffix)
    stack.client("ssm").put_parameter(Name=f"/p/{suffix}", Value=suffix, Type="String")
    stack.client("s3").create_bucket(Bucket=f"b-{suffix}")
    stack.client("s3").put_object(Bucket=f"b-{suffix}", Key="k", Body=suffix.encode())
    stack.client("logs").create_log_group(logGroupName=f"/g/{suffix}")


def assert_state(stack: Stack, suffix: str) -> None:
    sqs = stack.client("sqs")
    queue = sqs.get_queue_url(QueueName=f"q-{suffix}")["QueueUrl"]
    received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=0)
    bodies = sorted(m["Body"] for m in received["Messages"])
    assert bodies == sorted(f"{b}-{suffix}" for b in ("one", "two", "three"))
    item = stack.client("dynamodb").get_item(TableName=f"t-{suffix}", Key={"id": {"S": "k"}})
    assert item["Item"]["v"] == {"S": suffix}
    secret = stack.client("secretsmanager").get_secret_value(SecretId=f"s-{suffix}")
    assert secret["SecretString"] == suffix
    assert stack.client("ssm").get_parameter(Name=f"/p/{suffix}")["Parameter"]["Value"] == suffix
    body = stack.client("s3").get_object(Bucket=f"b-{suffix}", Key="k")["Body"].read()
    assert body == suffix.encode()
    groups = stack.client("logs").describe_log_groups(logGroupNamePrefix=f"/g/{suffix}")
    assert [g["logGroupName"] for g in groups["logGroups"]] == [f"/g/{suffix}"]


def companion_pid(stack: Stack) -> int | None:
    """The companion `tarn up` started: its child running services.companion."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        parent = int(stat.rpartition(")")[2].split()[1])
        if parent == stack.process.pid and b"services.companion" in argv:
            return int(entry.name)
    return None


def companion_answers(stack: Stack) -> bool:
    try:
        stack.client("sqs").list_queues()
        return True
    except Exception:
        return False


@pytest.mark.slow
def test_companion_state_survives_a_restart_and_a_sigkill(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "tarn.log"
    stack = start_stack(data, log)
    try:
        put_state(stack, "before-restart")
    finally:
        assert stop_stack(stack) == 0
    stack = start_stack(data, log)
    try:
        assert_state(stack, "before-restart")
        put_state(stack, "before-kill")
        time.sleep(2 * SNAPSHOT_INTERVAL_S)  # a crash loses at most the last second
        old = companion_pid(stack)
        assert old is not None
        os.kill(old, signal.SIGKILL)
        wait_for(lambda: companion_pid(stack) not in (None, old), 30, "companion restart")
        wait_for(lambda: companion_answers(stack), 30, "companion to answer")
        assert_state(stack, "before-restart")
        assert_state(stack, "before-kill")
    finally:
        stop_stack(stack)
