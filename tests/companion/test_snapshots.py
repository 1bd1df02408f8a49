"""Snapshots of moto's backends in this process: what moto holds (locks, conditions, lambda
factories) pickles, a restore puts queues and parameters back where moto looks for them, and a
stack a stop cut short is failed at the next start."""

from __future__ import annotations

from pathlib import Path

import boto3
from moto import mock_aws
from moto.cloudformation.models import cloudformation_backends
from moto.core.base_backend import BackendDict
from moto.sqs.models import SQSBackend, sqs_backends

from services.companion.cloudformation.operations import fail_interrupted
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


def test_a_stack_whose_operation_a_stop_cut_short_is_failed_at_the_next_start() -> None:
    with mock_aws():
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        template = '{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}'
        cloudformation.create_stack(StackName="cut-short", TemplateBody=template)
        cloudformation.create_stack(StackName="done", TemplateBody=template)
        (backend,) = [b for r in cloudformation_backends.values() for b in r.values() if b.stacks]
        (cut_short,) = [s for s in backend.stacks.values() if s.name == "cut-short"]
        cut_short.status = "CREATE_IN_PROGRESS"  # as a snapshot taken mid-operation keeps it

        assert fail_interrupted() == ["cut-short"]
        described = cloudformation.describe_stacks(StackName="cut-short")["Stacks"][0]
        assert described["StackStatus"] == "CREATE_FAILED"
        assert described["StackStatusReason"] == (
            "Tarn's companion stopped during CREATE_IN_PROGRESS"
        )
        done = cloudformation.describe_stacks(StackName="done")["Stacks"][0]
        assert done["StackStatus"] == "CREATE_COMPLETE"
