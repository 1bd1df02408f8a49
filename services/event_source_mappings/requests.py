"""Request bodies of the event source mapping operations and their validation as AWS does it:
the model's constraints first (one ValidationException), then Lambda's checks per source type.

https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html
Tarn maps Amazon SQS queues and DynamoDB streams; other sources are refused plainly.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from bus.arns import service_of
from bus.filters import InvalidFilterPattern, compile_filter
from services.errors import InvalidParameterValueException
from services.requests import (
    DESTINATION_ARN_MAX,
    DESTINATION_ARN_PATTERN,
    DestinationConfigInput,
    Problems,
    RequestShape,
)

SQS = "sqs"
DYNAMODB = "dynamodb"
# Sources that read a stream from a StartingPosition, as AWS checks it first.
STREAM_SOURCES = (DYNAMODB, "kinesis", "kafka")
# botocore's Arn pattern.
ARN_PATTERN = (
    r"arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:([a-z]{2}(-gov)?-[a-z]+-\d{1})?:(\d{12})?:(.*)"
)
POSITIONS = ("LATEST", "AT_TIMESTAMP", "TRIM_HORIZON")  # in the order AWS lists them
RESPONSE_TYPES = ("ReportBatchItemFailures",)
MAX_PATTERN_LENGTH = 4096
# https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html#events-sqs-eventsource
SQS_BATCH_WITHOUT_WINDOW = 10
FIFO_MAX_BATCH = 10
# Members only stream sources take, by their name in AWS's messages.
STREAM_ONLY = (
    ("parallelization_factor", "parallelizationFactor"),
    ("maximum_record_age_in_seconds", "maximumRecordAgeInSeconds"),
    ("bisect_batch_on_function_error", "bisectBatchOnFunctionError"),
    ("maximum_retry_attempts", "maximumRetryAttempts"),
    ("tumbling_window_in_seconds", "tumblingWindowInSeconds"),
)
UNSUPPORTED_SOURCES = {
    "kinesis": "Amazon Kinesis",
    "kafka": "Amazon MSK",
    "mq": "Amazon MQ",
    "rds": "Amazon DocumentDB",
}
INVALID_FILTER = "Invalid filter pattern definition."
NO_WINDOW = (
    "Maximum batch window in seconds must be greater than 0 if maximum batch size is "
    "greater than 10"
)


class FilterInput(RequestShape):
    pattern: str | None = None


class FilterCriteriaInput(RequestShape):
    filters: list[FilterInput] | None = None


class ScalingConfigInput(RequestShape):
    maximum_concurrency: int | None = None


class MappingSettingsInput(RequestShape):
    """Members CreateEventSourceMapping and UpdateEventSourceMapping share."""

    function_name: str | None = None
    enabled: bool | None = None
    batch_size: int | None = None
    filter_criteria: FilterCriteriaInput | None = None
    maximum_batching_window_in_seconds: int | None = None
    parallelization_factor: int | None = None
    destination_config: DestinationConfigInput | None = None
    maximum_record_age_in_seconds: int | None = None
    bisect_batch_on_function_error: bool | None = None
    maximum_retry_attempts: int | None = None
    tumbling_window_in_seconds: int | None = None
    function_response_types: list[str] | None = None
    scaling_config: ScalingConfigInput | None = None
    kms_key_arn: str | None = msgspec.field(default=None, name="KMSKeyArn")

    @property
    def on_failure(self) -> str | None:
        """The OnFailure destination asked for; "" clears it; None leaves it as it is."""
        config = self.destination_config
        if config is None:
            return None
        return (config.on_failure.destination if config.on_failure else None) or ""

    @property
    def filter_patterns(self) -> list[str] | None:
        if self.filter_criteria is None:
            return None
        return [f.pattern or "" for f in self.filter_criteria.filters or []]


class CreateMappingInput(MappingSettingsInput):
    event_source_arn: str | None = None
    starting_position: str | None = None
    starting_position_timestamp: float | None = None
    tags: dict[str, str] | None = None
    # Sources without an EventSourceArn, which Tarn does not map.
    self_managed_event_source: dict[str, Any] | None = None


class UpdateMappingInput(MappingSettingsInput):
    pass


def check_model(body: MappingSettingsInput) -> None:
    """The service model's constraints, reported together as AWS does."""
    problems = Problems()
    if isinstance(body, CreateMappingInput):
        problems.required(body.function_name, "functionName")
        problems.pattern(body.event_source_arn, "eventSourceArn", ARN_PATTERN)
        if body.starting_position not in (None, *POSITIONS):
            rule = f"Member must satisfy enum value set: [{', '.join(POSITIONS)}]"
            problems.add(body.starting_position, "startingPosition", rule)
    problems.bounds(body.batch_size, "batchSize", 1, 10000)
    problems.bounds(
        body.maximum_batching_window_in_seconds, "maximumBatchingWindowInSeconds", 0, 300
    )
    problems.bounds(body.parallelization_factor, "parallelizationFactor", 1, 10)
    problems.bounds(body.maximum_record_age_in_seconds, "maximumRecordAgeInSeconds", -1, 604800)
    problems.bounds(body.maximum_retry_attempts, "maximumRetryAttempts", -1, 10000)
    problems.bounds(body.tumbling_window_in_seconds, "tumblingWindowInSeconds", 0, 900)
    if body.scaling_config is not None:
        concurrency = body.scaling_config.maximum_concurrency
        problems.bounds(concurrency, "scalingConfig.maximumConcurrency", 2, 1000)
    _check_destinations(body, problems)
    _check_response_types(body.function_response_types, problems)
    for index, pattern in enumerate(body.filter_patterns or (), start=1):
        member = f"filterCriteria.filters.{index}.member.pattern"
        problems.max_length(pattern, member, MAX_PATTERN_LENGTH)
    problems.raise_any()


def _check_destinations(body: MappingSettingsInput, problems: Problems) -> None:
    config = body.destination_config
    for which, target in (
        ("onSuccess", config and config.on_success),
        ("onFailure", config and config.on_failure),
    ):
        if target and target.destination is not None:
            member = f"destinationConfig.{which}.destination"
            problems.max_length(target.destination, member, DESTINATION_ARN_MAX)
            problems.pattern(target.destination, member, DESTINATION_ARN_PATTERN)


def _check_response_types(types: list[str] | None, problems: Problems) -> None:
    if types is None:
        return
    shown = f"[{', '.join(types)}]"
    if len(types) > 1:
        problems.add(
            shown, "functionResponseTypes", "Member must have length less than or equal to 1"
        )
    elif any(t not in RESPONSE_TYPES for t in types):
        choices = ", ".join(RESPONSE_TYPES)
        rule = f"Member must satisfy constraint: [Member must satisfy enum value set: [{choices}]]"
        problems.add(shown, "functionResponseTypes", rule)


def source_of(body: CreateMappingInput) -> str:
    """The service of the mapping's source ("sqs" or "dynamodb"); anything else is refused."""
    arn = body.event_source_arn
    if arn is None:
        if body.self_managed_event_source is not None:
            raise _unsupported("Apache Kafka")
        raise InvalidParameterValueException(
            "Unrecognized event source, must be kafka or specify an EventSourceArn"
        )
    service = service_of(arn)  # an ARN: check_model has matched it
    if service in STREAM_SOURCES:
        _require_starting_position(body)
    if service not in (SQS, DYNAMODB):
        raise _unsupported(UNSUPPORTED_SOURCES.get(service, service))
    return service


def _unsupported(label: str) -> InvalidParameterValueException:
    return InvalidParameterValueException(
        f"Unsupported event source type: {label}. Tarn maps Amazon SQS queues and Amazon "
        "DynamoDB streams to functions."
    )


def check_create(body: CreateMappingInput, source: str) -> None:
    """Lambda's checks of a new mapping, after the model's and check_on_success."""
    assert body.event_source_arn is not None
    if source == SQS:
        if body.starting_position is not None or body.starting_position_timestamp is not None:
            raise InvalidParameterValueException(
                "StartingPosition is not valid for SQS event sources."
            )
        check_sqs_settings(
            body, body.event_source_arn, body.batch_size, body.maximum_batching_window_in_seconds
        )
    else:
        _check_stream_position(body)
        check_stream_settings(body)
    check_filters(body.filter_patterns)


def _require_starting_position(body: CreateMappingInput) -> None:
    """Stream sources must say where to start, whether Tarn maps them or not."""
    if body.starting_position is None:
        raise InvalidParameterValueException(
            "1 validation error detected: Value null at 'startingPosition' failed to satisfy "
            "constraint: Member must not be null."
        )


def _check_stream_position(body: CreateMappingInput) -> None:
    if body.starting_position == "AT_TIMESTAMP":  # DynamoDB streams cannot start at a time
        raise InvalidParameterValueException(
            f"Unsupported starting position for arn type: {body.event_source_arn}"
        )
    if body.starting_position_timestamp is not None:
        raise InvalidParameterValueException(
            "Timestamp only valid with StartingPosition AT_TIMESTAMP"
        )


def check_on_success(body: MappingSettingsInput) -> None:
    config = body.destination_config
    if config is not None and config.on_success is not None and config.on_success.destination:
        raise InvalidParameterValueException(
            "Unsupported DestinationConfig parameter for given event source mapping type."
        )


def check_sqs_settings(
    body: MappingSettingsInput, queue_arn: str, batch_size: int | None, window_s: int | None
) -> None:
    """What an SQS mapping refuses: stream-only members and large batches without a window."""
    for field, member in STREAM_ONLY:
        if getattr(body, field) is not None:
            raise _unsupported_member(member)
    if body.on_failure:
        raise _unsupported_member("destinationConfig")
    batch = batch_size or SQS_BATCH_WITHOUT_WINDOW
    if queue_arn.endswith(".fifo"):
        if batch > FIFO_MAX_BATCH:
            raise InvalidParameterValueException(
                "Batch size for FIFO queues must be between 1 and 10"
            )
        if window_s:
            raise InvalidParameterValueException("Batching window is not supported for FIFO queues")
    elif batch > SQS_BATCH_WITHOUT_WINDOW and not window_s:
        raise InvalidParameterValueException(NO_WINDOW)


def check_stream_settings(body: MappingSettingsInput) -> None:
    """What a DynamoDB stream mapping refuses: SQS's scaling configuration."""
    if body.scaling_config is not None and body.scaling_config.maximum_concurrency is not None:
        raise _unsupported_member("scalingConfig")


def _unsupported_member(member: str) -> InvalidParameterValueException:
    return InvalidParameterValueException(
        f"Unsupported '{member}' parameter for given event source mapping type."
    )


def check_filters(patterns: list[str] | None) -> None:
    if not patterns:
        return
    if not all(patterns):
        raise InvalidParameterValueException(INVALID_FILTER)
    try:
        compile_filter(patterns)
    except InvalidFilterPattern:
        raise InvalidParameterValueException(INVALID_FILTER) from None


def is_stream_arn(arn: str) -> bool:
    """A DynamoDB stream ARN names the table and the stream's label."""
    return re.fullmatch(r"arn:[^:]+:dynamodb:[^:]*:\d*:table/[^/]+/stream/.+", arn) is not None
