"""`tarn lambda publish-layer|publish-version|alias|map|unmap|secrets put` on a real stack."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Tarn, python_package
from tests.conftest import Stack
from tests.functions import unique_name
from tests.waiting import wait_for

LAYER_USER = "import greeting\n\ndef handler(event, context):\n    return greeting.HELLO\n"


def create_function(tarn: Tarn, tmp_path: Path, *extra: str, code: str = LAYER_USER) -> str:
    name = unique_name("res")
    python_package(tmp_path, code)
    created = tarn("create", "-n", name, "--runtime", "python3.12", "--handler", "app.handler",
                   "--zip", "function.zip", *extra)  # fmt: skip
    assert created.returncode == 0, created.stderr
    return name


def test_a_published_layer_serves_a_function(tarn: Tarn, tmp_path: Path) -> None:
    (tmp_path / "layer" / "python").mkdir(parents=True)
    (tmp_path / "layer" / "python" / "greeting.py").write_text("HELLO = 'from the layer'\n")
    layer = unique_name("layer")
    published = tarn("publish-layer", "--name", layer, "--code", "layer",
                     "--runtimes", "python3.12,python3.11", "-o", "json")  # fmt: skip
    assert published.returncode == 0, published.stderr
    answer = json.loads(published.stdout)
    assert answer["CompatibleRuntimes"] == ["python3.12", "python3.11"]
    name = create_function(tarn, tmp_path, "--layer", answer["LayerVersionArn"])
    assert json.loads(tarn("invoke", "-n", name).stdout) == "from the layer"


def test_versions_and_weighted_aliases(tarn: Tarn, tmp_path: Path) -> None:
    name = create_function(tarn, tmp_path, code="def handler(e, c):\n    return 1\n")
    first = tarn("publish-version", "-n", name)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[0].split() == ["version", "1"]
    # Publishing publishes changes: unchanged code and configuration keep version 1.
    assert tarn("update", "-n", name, "--memory", "256").returncode == 0
    published = tarn("publish-version", "-n", name, "--description", "two", "-o", "json")
    second = json.loads(published.stdout)
    assert second["Version"] == "2"
    made = tarn("alias", "create", "-n", name, "--alias", "live", "--version", "1",
                "--weight", "2=0.25")  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "2=0.25" in made.stdout
    moved = tarn("alias", "update", "-n", name, "--alias", "live", "--version", "2",
                 "--weight", "1=0.5", "-o", "json")  # fmt: skip
    alias = json.loads(moved.stdout)
    assert alias["FunctionVersion"] == "2"
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"1": 0.5}}
    listed = tarn("alias", "list", "-n", name).stdout.splitlines()
    assert listed[1].split() == ["live", "2", "1=0.5"]
    assert tarn("alias", "delete", "-n", name, "--alias", "live").returncode == 0
    assert json.loads(tarn("alias", "list", "-n", name, "-o", "json").stdout) == []


def test_map_and_unmap_a_queue(tarn: Tarn, tmp_path: Path, stack: Stack) -> None:
    name = create_function(tarn, tmp_path, code="def handler(e, c):\n    return 1\n")
    queue = unique_name("queue")
    queue_url = stack.client("sqs").create_queue(QueueName=queue)["QueueUrl"]
    pattern = '{"body": {"kind": ["order"]}}'
    mapped = tarn("map", "-n", name, "--queue", queue, "--batch-size", "5",
                  "--filter", pattern, "-o", "json")  # fmt: skip
    assert mapped.returncode == 0, mapped.stderr
    mapping = json.loads(mapped.stdout)
    arn = stack.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    assert mapping["EventSourceArn"] == arn["Attributes"]["QueueArn"]
    assert mapping["BatchSize"] == 5
    assert mapping["FilterCriteria"] == {"Filters": [{"Pattern": pattern}]}
    lambda_client = stack.client()
    settle(lambda_client, mapping["UUID"])
    unmapped = tarn("unmap", "-n", name, "--queue", queue)
    assert unmapped.returncode == 0, unmapped.stderr
    assert mapping["UUID"] in unmapped.stderr


def test_map_and_unmap_a_tables_stream(tarn: Tarn, tmp_path: Path, stack: Stack) -> None:
    name = create_function(tarn, tmp_path, code="def handler(e, c):\n    return 1\n")
    table = unique_name("table")
    described = stack.client("dynamodb").create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]
    mapped = tarn("map", "-n", name, "--table", table, "--starting-position", "TRIM_HORIZON")
    assert mapped.returncode == 0, mapped.stderr
    uuid = mapped.stdout.splitlines()[0].split()[1]
    mapping = stack.client().get_event_source_mapping(UUID=uuid)
    assert mapping["EventSourceArn"] == described["LatestStreamArn"]
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    settle(stack.client(), uuid)
    assert tarn("unmap", "--uuid", uuid, "-o", "json").returncode == 0


def test_map_needs_exactly_one_source(tarn: Tarn) -> None:
    result = tarn("map", "-n", "any", "--queue", "a", "--table", "b")
    assert result.returncode == 1
    assert "give one source" in result.stderr


def test_secrets_put_creates_then_updates_a_secret(tarn: Tarn, stack: Stack) -> None:
    name = unique_name("secret")
    created = tarn("secrets", "put", name, "first")
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("arn")
    assert tarn("secrets", "put", name, "second", "-o", "json").returncode == 0
    secrets = stack.client("secretsmanager")
    assert secrets.get_secret_value(SecretId=name)["SecretString"] == "second"


def settle(client, uuid: str) -> None:  # type: ignore[no-untyped-def]
    """A mapping takes deletes once it has left `Creating`, as on AWS."""
    wait_for(
        lambda: client.get_event_source_mapping(UUID=uuid)["State"] in ("Enabled", "Disabled"),
        what="the mapping to settle",
    )
