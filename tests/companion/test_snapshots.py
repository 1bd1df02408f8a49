"""Snapshots of moto's backends in this process: what moto holds (locks, conditions, lambda
factories) pickles, and a restore puts queues and parameters back where moto looks for them."""

from __future__ import annotations

from pathlib import Path

import boto3
from moto import mock_aws
from moto.core.base_backend import BackendDict
from moto.sqs.models import SQSBackend, sqs_backends

from services.companion.snapshots import Snapshots

REGION = "us-east-1"


def test_moto_still_lists_its_backends_where_snapshots_find_them() -> None:
    assert isinstance(BackendDict._instances, list)  # type: ignore[misc]
    assert sqs_backends.backend is SQSBackend


def test_a_snapshot_restores_queues_with_messages_and_parameters(tmp_path: Path) -> None:
    snapshots = Snapshots(tmp_path)
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        queue = sqs.create_queue(QueueName="kept")["QueueUrl"]
        sqs.send_message(QueueUrl=queue, MessageBody="hello")
        boto3.client("ssm", region_name=REGION).put_parameter(Name="/p", Value="v", Type="String")
        snapshots.write()
    with mock_aws():  # a fresh moto: nothing until the restore
        sqs = boto3.client("sqs", region_name=REGION)
        assert "QueueUrls" not in sqs.list_queues()
        restored = snapshots.restore()
        assert "moto.sqs.models:SQSBackend" in restored
        messages = sqs.receive_message(QueueUrl=queue)["Messages"]
        assert [m["Body"] for m in messages] == ["hello"]
        parameter = boto3.client("ssm", region_name=REGION).get_parameter(Name="/p")
        assert parameter["Parameter"]["Value"] == "v"
