"""Event source mappings through boto3 and the AWS CLI: the API's immediate answers, AWS's
defaults per source type, and AWS's errors, on a stack whose companion holds real queues
and streams.

The stack here runs no event-source poller, so the transitional states the API sets stay
put; the tests settle them in Redis themselves, as the poller holding the lease would.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from botocore.exceptions import ClientError
from redis import Redis

from bus.keys import Keys
from bus.records import EventSourceMapping
from tests.api.test_stack import aws_cli
from tests.conftest import Stack, start_stack, stop_stack
from tests.functions import create_python_function, unique_name

ACCOUNT = "000000000000"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:"
ESM_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:event-source-mapping:"
STREAM_ONLY = (
    "StartingPosition",
    "ParallelizationFactor",
    "LastProcessingResult",
    "DestinationConfig",
    "MaximumRecordAgeInSeconds",
    "BisectBatchOnFunctionError",
    "MaximumRetryAttempts",
    "TumblingWindowInSeconds",
)
NO_WINDOW = (
    "Maximum batch window in seconds must be greater than 0 if maximum batch size is "
    "greater than 10"
)


@pytest.fixture(scope="module")
def esm_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("esm-stack")
    running = start_stack(
        folder / "data", folder / "tarn.log", settings={"TARN_WORKERS": "functions"}
    )
    yield running
    stop_stack(running)


@pytest.fixture(scope="module")
def client(esm_stack: Stack):  # type: ignore[no-untyped-def]
    return esm_stack.client()


@pytest.fixture(scope="module")
def function(esm_stack: Stack, client) -> str:  # type: ignore[no-untyped-def]
    name = unique_name("esm")
    create_python_function(client, name)
    return name


def make_queue(stack: Stack, name: str | None = None) -> str:
    """A new queue on the companion; its ARN."""
    sqs = stack.client("sqs")
    url = sqs.create_queue(QueueName=name or unique_name("q"))["QueueUrl"]
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]


def make_stream(stack: Stack) -> str:
    """A new table with a stream on the companion; the stream's ARN."""
    created = stack.client("dynamodb").create_table(
        TableName=unique_name("t"),
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    return str(created["TableDescription"]["LatestStreamArn"])


def settle(stack: Stack, uuid: str, state: str) -> None:
    """Do what the poller does when it settles a mapping."""
    redis = Redis(unix_socket_path=str(stack.data_dir / "redis.sock"), socket_timeout=5)
    key = Keys("tarn").event_source_mappings
    mapping = msgspec.msgpack.decode(redis.hget(key, uuid), type=EventSourceMapping)
    changed = msgspec.structs.replace(mapping, state=state)
    redis.hset(key, uuid, msgspec.msgpack.encode(changed))
    redis.close()


def refused(call: Callable[..., Any], **kwargs: Any) -> tuple[str, int, str]:
    """The error code, HTTP status and message a call is refused with."""
    with pytest.raises(ClientError) as error:
        call(**kwargs)
    response = error.value.response
    status = response["ResponseMetadata"]["HTTPStatusCode"]
    return response["Error"]["Code"], status, response["Error"]["Message"]


def test_sqs_mapping_is_created_with_sqs_defaults_and_no_stream_members(
    esm_stack: Stack, client, function: str
) -> None:
    queue = make_queue(esm_stack)
    before = time.time()
    created = client.create_event_source_mapping(FunctionName=function, EventSourceArn=queue)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    uuid = created["UUID"]
    assert created["State"] == "Creating"
    assert created["StateTransitionReason"] == "USER_INITIATED"
    assert created["BatchSize"] == 10
    assert created["MaximumBatchingWindowInSeconds"] == 0
    assert created["EventSourceArn"] == queue
    assert created["FunctionArn"] == FUNCTION_ARN + function
    assert created["FunctionResponseTypes"] == []
    assert created["EventSourceMappingArn"] == ESM_ARN + uuid
    assert before - 1 <= created["LastModified"].timestamp() <= time.time() + 1
    assert not set(STREAM_ONLY) & set(created)
    assert "FilterCriteria" not in created and "ScalingConfig" not in created
    fetched = client.get_event_source_mapping(UUID=uuid)
    assert fetched["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert {k: v for k, v in fetched.items() if k != "ResponseMetadata"} == {
        k: v for k, v in created.items() if k != "ResponseMetadata"
    }


def test_dynamodb_mapping_is_created_with_stream_defaults(
    esm_stack: Stack, client, function: str
) -> None:
    stream = make_stream(esm_stack)
    created = client.create_event_source_mapping(
        FunctionName=function, EventSourceArn=stream, StartingPosition="TRIM_HORIZON"
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    expected = {
        "StartingPosition": "TRIM_HORIZON",
        "BatchSize": 100,
        "MaximumBatchingWindowInSeconds": 0,
        "ParallelizationFactor": 1,
        "EventSourceArn": stream,
        "FunctionArn": FUNCTION_ARN + function,
        "LastProcessingResult": "No records processed",
        "State": "Creating",
        "StateTransitionReason": "User action",
        "DestinationConfig": {"OnFailure": {}},
        "MaximumRecordAgeInSeconds": -1,
        "BisectBatchOnFunctionError": False,
        "MaximumRetryAttempts": -1,
        "TumblingWindowInSeconds": 0,
        "FunctionResponseTypes": [],
        "EventSourceMappingArn": ESM_ARN + created["UUID"],
    }
    assert {k: created[k] for k in expected} == expected


def test_settings_filters_and_destinations_are_rendered_back(
    esm_stack: Stack, client, function: str
) -> None:
    version = client.publish_version(FunctionName=function)["Version"]
    patterns = ['{"body": {"kind": ["order"]}}', '{"body": {"n": [{"numeric": [">", 1]}]}}']
    queued = client.create_event_source_mapping(
        FunctionName=f"{function}:{version}",
        EventSourceArn=make_queue(esm_stack),
        BatchSize=50,
        MaximumBatchingWindowInSeconds=2,
        Enabled=False,
        FilterCriteria={"Filters": [{"Pattern": p} for p in patterns]},
        ScalingConfig={"MaximumConcurrency": 5},
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    assert queued["FunctionArn"] == f"{FUNCTION_ARN}{function}:{version}"
    assert queued["FilterCriteria"] == {"Filters": [{"Pattern": p} for p in patterns]}
    assert queued["ScalingConfig"] == {"MaximumConcurrency": 5}
    assert queued["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert (queued["BatchSize"], queued["MaximumBatchingWindowInSeconds"]) == (50, 2)
    dead_letters = make_queue(esm_stack)
    streamed = client.create_event_source_mapping(
        FunctionName=FUNCTION_ARN + function,
        EventSourceArn=make_stream(esm_stack),
        StartingPosition="LATEST",
        DestinationConfig={"OnFailure": {"Destination": dead_letters}},
        MaximumRetryAttempts=2,
        MaximumRecordAgeInSeconds=3600,
        BisectBatchOnFunctionError=True,
        ParallelizationFactor=3,
    )
    assert streamed["DestinationConfig"] == {"OnFailure": {"Destination": dead_letters}}
    assert streamed["MaximumRetryAttempts"] == 2
    assert streamed["MaximumRecordAgeInSeconds"] == 3600
    assert streamed["BisectBatchOnFunctionError"] is True
    assert streamed["ParallelizationFactor"] == 3


def test_sqs_batches_over_ten_need_a_batching_window(
    esm_stack: Stack, client, function: str
) -> None:
    queue = make_queue(esm_stack)
    call = client.create_event_source_mapping
    assert refused(call, FunctionName=function, EventSourceArn=queue, BatchSize=11) == (
        "InvalidParameterValueException",
        400,
        NO_WINDOW,
    )
    unchecked = esm_stack.client(validate=False).create_event_source_mapping
    assert refused(
        unchecked,
        FunctionName=function,
        EventSourceArn=queue,
        BatchSize=10001,
        MaximumBatchingWindowInSeconds=1,
    ) == (
        "ValidationException",
        400,
        "1 validation error detected: Value '10001' at 'batchSize' failed to satisfy "
        "constraint: Member must have value less than or equal to 10000",
    )
    created = call(
        FunctionName=function,
        EventSourceArn=queue,
        BatchSize=10000,
        MaximumBatchingWindowInSeconds=1,
    )
    assert created["BatchSize"] == 10000


def test_a_second_mapping_of_the_same_source_and_function_conflicts(
    esm_stack: Stack, client, function: str
) -> None:
    queue = make_queue(esm_stack)
    first = client.create_event_source_mapping(FunctionName=function, EventSourceArn=queue)
    assert refused(
        client.create_event_source_mapping, FunctionName=function, EventSourceArn=queue
    ) == (
        "ResourceConflictException",
        409,
        f'An event source mapping with SQS arn (" {queue} ") and function (" {function} ") '
        f"already exists. Please update or delete the existing mapping with UUID {first['UUID']}",
    )
    stream = make_stream(esm_stack)
    kwargs = {"FunctionName": function, "EventSourceArn": stream, "StartingPosition": "LATEST"}
    second = client.create_event_source_mapping(**kwargs)
    assert refused(client.create_event_source_mapping, **kwargs) == (
        "ResourceConflictException",
        409,
        f'The event source arn (" {stream} ") and function (" {function} ") provided mapping '
        f"already exists. Please update or delete the existing mapping with UUID "
        f"{second['UUID']}",
    )


def test_starting_positions_as_aws_checks_them(esm_stack: Stack, client, function: str) -> None:
    stream, queue = make_stream(esm_stack), make_queue(esm_stack)
    call = client.create_event_source_mapping
    assert refused(call, FunctionName=function, EventSourceArn=stream) == (
        "InvalidParameterValueException",
        400,
        "1 validation error detected: Value null at 'startingPosition' failed to satisfy "
        "constraint: Member must not be null.",
    )
    at_timestamp = {"StartingPosition": "AT_TIMESTAMP", "StartingPositionTimestamp": 1}
    assert refused(call, FunctionName=function, EventSourceArn=stream, **at_timestamp) == (
        "InvalidParameterValueException",
        400,
        f"Unsupported starting position for arn type: {stream}",
    )
    timestamp = {"StartingPosition": "LATEST", "StartingPositionTimestamp": 1}
    assert refused(call, FunctionName=function, EventSourceArn=stream, **timestamp) == (
        "InvalidParameterValueException",
        400,
        "Timestamp only valid with StartingPosition AT_TIMESTAMP",
    )
    assert refused(
        call, FunctionName=function, EventSourceArn=queue, StartingPosition="LATEST"
    ) == (
        "InvalidParameterValueException",
        400,
        "StartingPosition is not valid for SQS event sources.",
    )
    unchecked = esm_stack.client(validate=False).create_event_source_mapping
    assert refused(
        unchecked, FunctionName=function, EventSourceArn=stream, StartingPosition="0"
    ) == (
        "ValidationException",
        400,
        "1 validation error detected: Value '0' at 'startingPosition' failed to satisfy "
        "constraint: Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]",
    )


def test_missing_sources_and_functions_are_refused(esm_stack: Stack, client, function: str) -> None:
    call = client.create_event_source_mapping
    queue = f"arn:aws:sqs:us-east-1:{ACCOUNT}:{unique_name('missing')}"
    assert refused(call, FunctionName=function, EventSourceArn=queue) == (
        "InvalidParameterValueException",
        400,
        "Error occurred while ReceiveMessage. SQS Error Code: "
        "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does "
        "not exist or you do not have access to it.",
    )
    stream = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/nope/stream/2024-01-01T00:00:00.000"
    assert refused(
        call, FunctionName=function, EventSourceArn=stream, StartingPosition="LATEST"
    ) == ("InvalidParameterValueException", 400, f"Stream not found: {stream}")
    existing_queue = make_queue(esm_stack)
    for name in (unique_name("nofn"), f"{function}:nosuchalias", f"{function}:999"):
        assert refused(call, FunctionName=name, EventSourceArn=existing_queue) == (
            "InvalidParameterValueException",
            400,
            "Function does not exist",
        )


@pytest.mark.parametrize(
    "pattern",
    ["", "simple string", '{"body": "x"}', '{"body": [{"prefix": 1}]}', '{"a": [{"nope": 1}]}'],
)
def test_invalid_filter_patterns_are_refused(
    esm_stack: Stack, client, function: str, pattern: str
) -> None:
    assert refused(
        client.create_event_source_mapping,
        FunctionName=function,
        EventSourceArn=make_queue(esm_stack),
        FilterCriteria={"Filters": [{"Pattern": pattern}]},
    ) == ("InvalidParameterValueException", 400, "Invalid filter pattern definition.")


def test_members_the_source_type_does_not_take_are_refused(
    esm_stack: Stack, client, function: str
) -> None:
    call = client.create_event_source_mapping
    queue, stream = make_queue(esm_stack), make_stream(esm_stack)
    for member, value, name in (
        ("MaximumRetryAttempts", 1, "maximumRetryAttempts"),
        ("BisectBatchOnFunctionError", True, "bisectBatchOnFunctionError"),
        ("DestinationConfig", {"OnFailure": {"Destination": queue}}, "destinationConfig"),
    ):
        assert refused(call, FunctionName=function, EventSourceArn=queue, **{member: value}) == (
            "InvalidParameterValueException",
            400,
            f"Unsupported '{name}' parameter for given event source mapping type.",
        )
    on_success = {"OnSuccess": {"Destination": queue}}
    assert refused(
        call,
        FunctionName=function,
        EventSourceArn=stream,
        StartingPosition="LATEST",
        DestinationConfig=on_success,
    ) == (
        "InvalidParameterValueException",
        400,
        "Unsupported DestinationConfig parameter for given event source mapping type.",
    )


def test_sources_tarn_does_not_map_are_refused_plainly(client, function: str) -> None:
    kinesis = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/s"
    code, status, message = refused(
        client.create_event_source_mapping,
        FunctionName=function,
        EventSourceArn=kinesis,
        StartingPosition="LATEST",
    )
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message.startswith("Unsupported event source type: Amazon Kinesis.")
    assert refused(client.create_event_source_mapping, FunctionName=function) == (
        "InvalidParameterValueException",
        400,
        "Unrecognized event source, must be kafka or specify an EventSourceArn",
    )


def test_unknown_uuids_are_not_found(client) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    expected = ("ResourceNotFoundException", 404, "The resource you requested does not exist.")
    assert refused(client.get_event_source_mapping, UUID=missing) == expected
    assert refused(client.update_event_source_mapping, UUID=missing, Enabled=False) == expected
    assert refused(client.delete_event_source_mapping, UUID=missing) == expected


def test_list_filters_by_source_and_function_and_pages_with_markers(
    esm_stack: Stack, client, function: str
) -> None:
    other = unique_name("esm-other")
    create_python_function(client, other)
    queues = [make_queue(esm_stack) for _ in range(3)]
    mine = {
        client.create_event_source_mapping(FunctionName=other, EventSourceArn=q)["UUID"]
        for q in queues
    }
    client.create_event_source_mapping(FunctionName=function, EventSourceArn=queues[0])
    first = client.list_event_source_mappings(FunctionName=other, MaxItems=2)
    assert len(first["EventSourceMappings"]) == 2
    second = client.list_event_source_mappings(FunctionName=other, Marker=first["NextMarker"])
    assert "NextMarker" not in second
    listed = first["EventSourceMappings"] + second["EventSourceMappings"]
    assert {m["UUID"] for m in listed} == mine
    pages = client.get_paginator("list_event_source_mappings").paginate(
        FunctionName=FUNCTION_ARN + other, PaginationConfig={"PageSize": 1}
    )
    assert {m["UUID"] for page in pages for m in page["EventSourceMappings"]} == mine
    by_source = client.list_event_source_mappings(EventSourceArn=queues[0])["EventSourceMappings"]
    assert {m["FunctionArn"] for m in by_source} == {FUNCTION_ARN + other, FUNCTION_ARN + function}
    both = client.list_event_source_mappings(EventSourceArn=queues[0], FunctionName=function)
    assert [m["FunctionArn"] for m in both["EventSourceMappings"]] == [FUNCTION_ARN + function]
    assert client.list_event_source_mappings(FunctionName="nosuchfn")["EventSourceMappings"] == []


def test_updates_wait_for_the_poller_and_set_transitional_states(
    esm_stack: Stack, client, function: str
) -> None:
    uuid = client.create_event_source_mapping(
        FunctionName=function, EventSourceArn=make_queue(esm_stack)
    )["UUID"]
    in_use = (
        "ResourceInUseException",
        400,
        "Cannot update the event source mapping because it is in use.",
    )
    assert refused(client.update_event_source_mapping, UUID=uuid, BatchSize=5) == in_use
    settle(esm_stack, uuid, "Enabled")
    updated = client.update_event_source_mapping(
        UUID=uuid,
        BatchSize=5,
        FilterCriteria={"Filters": [{"Pattern": '{"body": ["x"]}'}]},
    )
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert (updated["State"], updated["BatchSize"]) == ("Updating", 5)
    assert updated["FilterCriteria"] == {"Filters": [{"Pattern": '{"body": ["x"]}'}]}
    settle(esm_stack, uuid, "Enabled")
    assert client.update_event_source_mapping(UUID=uuid, Enabled=False)["State"] == "Disabling"
    settle(esm_stack, uuid, "Disabled")
    enabling = client.update_event_source_mapping(UUID=uuid, Enabled=True, FilterCriteria={})
    assert enabling["State"] == "Enabling"
    assert "FilterCriteria" not in enabling
    assert client.get_event_source_mapping(UUID=uuid)["State"] == "Enabling"


def test_updates_check_the_new_settings_against_the_source(
    esm_stack: Stack, client, function: str
) -> None:
    uuid = client.create_event_source_mapping(
        FunctionName=function, EventSourceArn=make_queue(esm_stack)
    )["UUID"]
    settle(esm_stack, uuid, "Enabled")
    update = client.update_event_source_mapping
    assert refused(update, UUID=uuid, BatchSize=20) == (
        "InvalidParameterValueException",
        400,
        NO_WINDOW,
    )
    assert refused(update, UUID=uuid, FunctionName=unique_name("nofn")) == (
        "InvalidParameterValueException",
        400,
        "Function does not exist",
    )
    other = unique_name("esm-moved")
    create_python_function(client, other)
    moved = update(UUID=uuid, FunctionName=other, BatchSize=20, MaximumBatchingWindowInSeconds=5)
    assert moved["FunctionArn"] == FUNCTION_ARN + other
    assert (moved["BatchSize"], moved["MaximumBatchingWindowInSeconds"]) == (20, 5)


def test_delete_answers_deleting_once_the_mapping_is_settled(
    esm_stack: Stack, client, function: str
) -> None:
    stream = make_stream(esm_stack)
    uuid = client.create_event_source_mapping(
        FunctionName=function, EventSourceArn=stream, StartingPosition="LATEST"
    )["UUID"]
    assert refused(client.delete_event_source_mapping, UUID=uuid) == (
        "ResourceInUseException",
        400,
        "Cannot delete the event source mapping because it is in use.",
    )
    settle(esm_stack, uuid, "Enabled")
    deleted = client.delete_event_source_mapping(UUID=uuid)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert (deleted["State"], deleted["UUID"], deleted["EventSourceArn"]) == (
        "Deleting",
        uuid,
        stream,
    )
    assert client.get_event_source_mapping(UUID=uuid)["State"] == "Deleting"


def test_aws_cli_creates_gets_and_lists_mappings(esm_stack: Stack, function: str) -> None:
    queue = make_queue(esm_stack)
    created = aws_cli(
        esm_stack,
        "create-event-source-mapping",
        "--function-name",
        function,
        "--event-source-arn",
        queue,
        "--batch-size",
        "5",
        "--filter-criteria",
        json.dumps({"Filters": [{"Pattern": '{"body": {"a": ["b"]}}'}]}),
    )
    mapping = json.loads(created.stdout)
    assert (mapping["State"], mapping["BatchSize"]) == ("Creating", 5)
    fetched = json.loads(
        aws_cli(esm_stack, "get-event-source-mapping", "--uuid", mapping["UUID"]).stdout
    )
    assert fetched["FilterCriteria"] == {"Filters": [{"Pattern": '{"body": {"a": ["b"]}}'}]}
    listed = aws_cli(esm_stack, "list-event-source-mappings", "--event-source-arn", queue)
    assert [m["UUID"] for m in json.loads(listed.stdout)["EventSourceMappings"]] == [
        mapping["UUID"]
    ]
    failed = aws_cli(
        esm_stack,
        "create-event-source-mapping",
        "--function-name",
        function,
        "--event-source-arn",
        queue,
        check=False,
    )
    assert failed.returncode != 0
    assert "ResourceConflictException" in failed.stderr
    assert mapping["UUID"] in failed.stderr


def test_the_log_holds_no_unexpected_errors(esm_stack: Stack) -> None:
    assert "unexpected error" not in Path(esm_stack.log_path).read_text()
