"""Real Terraform, one init/apply/plan/destroy cycle for the configurations applied together:
hcl/docs_example.tf, the example of Tarn's Lambda page character for character (only the
endpoint is the test stack's), hcl/typical_stack.tf (layer, published function with reserved
concurrency and tags, alias, permission, function URL, event-invoke config with an OnFailure
queue, DynamoDB stream mapping, log group) on an aliased provider with more endpoints, and
hcl/hot_reload.tf (a function whose code is a folder, LocalStack's hot-reload convention).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Stack
from tests.terraform.conftest import Terraform
from tests.terraform.recorder import recorded, write_function_zip, write_layer_zip
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

QUEUE_DEPTH = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")


def check_the_documented_example(stack: Stack, calls: Path) -> None:
    """my-function answers, and its SQS mapping drains lambda-events into it."""
    client = stack.client()
    response = client.invoke(FunctionName="my-function", Payload=b'{"from": "boto3"}')
    assert "FunctionError" not in response, response["Payload"].read()
    assert json.loads(response["Payload"].read()) == {"greeting": "hello", "records": 0}

    sqs = stack.client("sqs")
    queue_url = sqs.get_queue_url(QueueName="lambda-events")["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody="through the mapping")

    def drained() -> bool:
        bodies = [r["body"] for call in recorded(calls) for r in call["event"].get("Records", [])]
        return "through the mapping" in bodies

    wait_for(drained, 60, "the SQS mapping to hand the message to the function")

    def empty() -> bool:
        found = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=list(QUEUE_DEPTH))
        return all(found["Attributes"][name] == "0" for name in QUEUE_DEPTH)

    wait_for(empty, 30, "the mapping to delete the message from the queue")


def check_the_typical_stack(stack: Stack, calls: Path) -> None:
    """orders:live runs version 1 with its layer and reserved concurrency, and its DynamoDB
    stream mapping delivers a new item."""
    client = stack.client()
    response = client.invoke(FunctionName="orders", Qualifier="live", Payload=b"{}")
    assert "FunctionError" not in response, response["Payload"].read()
    assert json.loads(response["Payload"].read())["greeting"] == "hello from the layer"
    assert response["ExecutedVersion"] == "1"
    concurrency = client.get_function_concurrency(FunctionName="orders")
    assert concurrency["ReservedConcurrentExecutions"] == 5

    mappings = client.list_event_source_mappings(FunctionName="orders:live")
    assert [m["State"] for m in mappings["EventSourceMappings"]] == ["Enabled"]
    stack.client("dynamodb").put_item(TableName="orders", Item={"id": {"S": "order-1"}})

    def streamed() -> bool:
        return any(
            r.get("eventSource") == "aws:dynamodb" and r["dynamodb"]["Keys"]["id"]["S"] == "order-1"
            for call in recorded(calls)
            for r in call["event"].get("Records", [])
        )

    wait_for(streamed, 60, "the DynamoDB stream mapping to hand the new item to the function")


HOT_APP = "def handler(event, context):\n    return {value!r}\n"


def check_hot_reload(stack: Stack, folder: Path) -> None:
    """The hot-reload function runs its folder, and the next invokes after an edit run the edit."""
    client = stack.client()

    def answers(expected: str) -> bool:
        response = client.invoke(FunctionName="hot-reload", Payload=b"{}")
        return bool(json.loads(response["Payload"].read()) == expected)

    assert answers("as applied")
    (folder / "app.py").write_text(HOT_APP.format(value="edited"))
    wait_for(lambda: answers("edited"), 15, "the hot-reload function to run the edited code")


def check_nothing_is_left(stack: Stack) -> None:
    """No function, version, mapping, policy, layer, role, queue, table or log group."""
    client = stack.client()
    assert client.list_functions(FunctionVersion="ALL")["Functions"] == []
    assert client.list_event_source_mappings()["EventSourceMappings"] == []
    for name in ("my-function", "orders"):
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.get_policy(FunctionName=name)
    assert client.list_layers()["Layers"] == []
    assert stack.client("iam").list_roles()["Roles"] == []
    assert stack.client("sqs").list_queues().get("QueueUrls", []) == []
    assert stack.client("dynamodb").list_tables()["TableNames"] == []
    logs = stack.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/orders")
    assert logs["logGroups"] == []


@pytest.mark.timeout(900)
def test_the_documented_example_and_a_typical_stack_apply_run_plan_clean_and_destroy(
    terraform: Terraform, tmp_path: Path
) -> None:
    docs_calls, orders_calls = tmp_path / "my-function", tmp_path / "orders"
    write_function_zip(terraform.workdir / "function.zip", docs_calls)
    write_function_zip(terraform.workdir / "orders.zip", orders_calls)
    write_layer_zip(terraform.workdir / "layer.zip")
    hot_reload = terraform.workdir / "hot_reload"
    hot_reload.mkdir()
    (hot_reload / "app.py").write_text(HOT_APP.format(value="as applied"))
    terraform.apply()

    check_the_documented_example(terraform.stack, docs_calls)
    check_the_typical_stack(terraform.stack, orders_calls)
    check_hot_reload(terraform.stack, hot_reload)
    assert terraform.plan_changes() == "", "an edited hot-reload folder is no drift"

    terraform.destroy()
    check_nothing_is_left(terraform.stack)
