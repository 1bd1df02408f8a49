"""`tarn lambda map|unmap`: event source mappings from the stack's SQS queues and DynamoDB
streams, named by queue or table (CreateEventSourceMapping, DeleteEventSourceMapping)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from services.cli.lambda_cli.endpoint import DEFAULT_ENDPOINT, Endpoint
from services.cli.lambda_cli.failures import CommandFailed
from services.cli.lambda_cli.options import EndpointUrl, FunctionName, OutputOption
from services.cli.lambda_cli.output import Output, note, print_fields, print_json, without_metadata

commands = typer.Typer()

Queue = Annotated[str | None, typer.Option(help="an SQS queue's name")]
TableName = Annotated[str | None, typer.Option("--table", help="a DynamoDB table with a stream")]
SourceArn = Annotated[str | None, typer.Option(help="any event source ARN")]


@commands.command(
    name="map",
    epilog="Example: tarn lambda map --name my-processor --queue my-queue --batch-size 10 "
    '--filter \'{"body": {"kind": ["order"]}}\'',
)
def map_source(
    name: FunctionName,
    queue: Queue = None,
    table: TableName = None,
    source_arn: SourceArn = None,
    batch_size: Annotated[int | None, typer.Option(help="records per invoke")] = None,
    filter_pattern: Annotated[
        list[str] | None,
        typer.Option("--filter", help="an event filter pattern (JSON), repeatable"),
    ] = None,
    starting_position: Annotated[
        str | None, typer.Option(help="streams: LATEST (default) or TRIM_HORIZON")
    ] = None,
    endpoint: EndpointUrl = DEFAULT_ENDPOINT,
    output: OutputOption = Output.text,
) -> None:
    """Invoke a function with the messages of a queue or the records of a table's stream."""
    stack = Endpoint(endpoint)
    arn = source(stack, queue, table, source_arn)
    request: dict[str, Any] = {"FunctionName": name, "EventSourceArn": arn}
    if batch_size is not None:
        request["BatchSize"] = batch_size
    if filter_pattern:
        request["FilterCriteria"] = {"Filters": [{"Pattern": checked(p)} for p in filter_pattern]}
    if ":dynamodb:" in arn or ":kinesis:" in arn:
        request["StartingPosition"] = starting_position or "LATEST"
    elif starting_position:
        request["StartingPosition"] = starting_position
    response = stack.client("lambda").create_event_source_mapping(**request)
    if output is Output.json:
        print_json(without_metadata(response))
    else:
        print_fields([("uuid", response["UUID"]), ("source", arn), ("state", response["State"])])


@commands.command(
    epilog="Example: tarn lambda unmap --name my-processor --queue my-queue   |   "
    "tarn lambda unmap --uuid 3f0c...",
)
def unmap(
    uuid: Annotated[
        str | None, typer.Option(help="the mapping's UUID, as `map` printed it")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", "-n", help="the function's name")] = None,
    queue: Queue = None,
    table: TableName = None,
    source_arn: SourceArn = None,
    endpoint: EndpointUrl = DEFAULT_ENDPOINT,
    output: OutputOption = Output.text,
) -> None:
    """Delete an event source mapping, by UUID or by function and source."""
    stack = Endpoint(endpoint)
    client = stack.client("lambda")
    if uuid is None:
        if name is None:
            raise CommandFailed("give --uuid, or --name with --queue, --table or --source-arn")
        uuid = find(client, name, source(stack, queue, table, source_arn))
    response = client.delete_event_source_mapping(UUID=uuid)
    if output is Output.json:
        print_json(without_metadata(response))
    else:
        note(f"unmapped {uuid} ({response['State']})")


def source(stack: Endpoint, queue: str | None, table: str | None, arn: str | None) -> str:
    """The ARN that `--queue`, `--table` or `--source-arn` names: exactly one of them."""
    if sum(x is not None for x in (queue, table, arn)) != 1:
        raise CommandFailed("give one source: --queue NAME, --table NAME or --source-arn ARN")
    if queue is not None:
        sqs = stack.client("sqs")
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return str(attributes["Attributes"]["QueueArn"])
    if table is not None:
        described = stack.client("dynamodb").describe_table(TableName=table)["Table"]
        if "LatestStreamArn" not in described:
            raise CommandFailed(f"table {table} has no stream: enable one (StreamSpecification)")
        return str(described["LatestStreamArn"])
    return str(arn)


def find(client: Any, name: str, arn: str) -> str:
    found = client.list_event_source_mappings(FunctionName=name, EventSourceArn=arn)
    mappings = found["EventSourceMappings"]
    if not mappings:
        raise CommandFailed(f"no mapping from {arn} to {name}")
    return str(mappings[0]["UUID"])


def checked(pattern: str) -> str:
    try:
        json.loads(pattern)
    except ValueError:
        raise CommandFailed(f"--filter {pattern!r} is not JSON") from None
    return pattern
