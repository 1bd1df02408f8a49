"""Event source mapping records built from requests (AWS's defaults per source type, the
changes an update makes) and rendered as AWS's EventSourceMappingConfiguration.

https://docs.aws.amazon.com/lambda/latest/api/API_EventSourceMappingConfiguration.html
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import msgspec

from bus.records import EventSourceMapping, MappingState
from bus.settings import Settings
from services.event_source_mappings.requests import (
    SQS,
    CreateMappingInput,
    MappingSettingsInput,
    UpdateMappingInput,
)

# AWS's words in StateTransitionReason: SQS mappings say USER_INITIATED, streams "User action".
SQS_REASON = "USER_INITIATED"
STREAM_REASON = "User action"
# https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html#services-ddb-params
STREAM_DEFAULTS: dict[str, Any] = {
    "batch_size": 100,
    "parallelization_factor": 1,
    "maximum_record_age_s": -1,
    "bisect_batch_on_function_error": False,
    "maximum_retry_attempts": -1,
    "tumbling_window_s": 0,
}
# The states the API sets; the poller that holds the mapping's lease settles them.
TRANSITIONAL = (
    MappingState.CREATING,
    MappingState.ENABLING,
    MappingState.DISABLING,
    MappingState.UPDATING,
    MappingState.DELETING,
)
# What an update's members change on the record, by member and record field.
UPDATED_FIELDS = (
    ("batch_size", "batch_size"),
    ("maximum_batching_window_in_seconds", "maximum_batching_window_s"),
    ("parallelization_factor", "parallelization_factor"),
    ("maximum_record_age_in_seconds", "maximum_record_age_s"),
    ("bisect_batch_on_function_error", "bisect_batch_on_function_error"),
    ("maximum_retry_attempts", "maximum_retry_attempts"),
    ("tumbling_window_in_seconds", "tumbling_window_s"),
    ("function_response_types", "function_response_types"),
    ("filter_patterns", "filter_patterns"),
)


def new_mapping(
    body: CreateMappingInput, source: str, name: str, qualifier: str | None, function_arn: str
) -> EventSourceMapping:
    """The record of a new mapping, in state Creating, with AWS's defaults for its source."""
    assert body.event_source_arn is not None
    fields: dict[str, Any] = {} if source == SQS else dict(STREAM_DEFAULTS)
    fields.update(_given(body))
    return EventSourceMapping(
        uuid=str(uuid.uuid4()),
        event_source_arn=body.event_source_arn,
        function_name=name,
        function_arn=function_arn,
        qualifier=qualifier,
        enabled=body.enabled is not False,
        state=MappingState.CREATING,
        state_transition_reason=SQS_REASON if source == SQS else STREAM_REASON,
        last_modified=time.time(),
        starting_position=body.starting_position,
        starting_position_timestamp=body.starting_position_timestamp,
        on_failure=body.on_failure or None,
        maximum_concurrency=_concurrency(body),
        kms_key_arn=body.kms_key_arn or None,
        tags=body.tags or {},
        **fields,
    )


def _given(body: MappingSettingsInput) -> dict[str, Any]:
    """The record fields the request sets (members it leaves out are not in it)."""
    given = {field: getattr(body, member) for member, field in UPDATED_FIELDS}
    return {field: value for field, value in given.items() if value is not None}


def _concurrency(body: MappingSettingsInput) -> int | None:
    return body.scaling_config.maximum_concurrency if body.scaling_config else None


def updated_mapping(
    mapping: EventSourceMapping,
    body: UpdateMappingInput,
    function: tuple[str, str | None, str] | None,
) -> EventSourceMapping:
    """The mapping as an update leaves it: changed members, the function (name, qualifier,
    ARN) if it changes, and the transitional state the poller settles."""
    changes = _given(body)
    if function is not None:
        changes.update(function_name=function[0], qualifier=function[1], function_arn=function[2])
    if body.on_failure is not None:
        changes["on_failure"] = body.on_failure or None
    if body.scaling_config is not None:
        changes["maximum_concurrency"] = _concurrency(body)
    if body.kms_key_arn is not None:
        changes["kms_key_arn"] = body.kms_key_arn or None
    enabled = mapping.enabled if body.enabled is None else body.enabled
    if enabled != mapping.enabled:
        changes["state"] = MappingState.ENABLING if enabled else MappingState.DISABLING
    else:
        changes["state"] = MappingState.UPDATING
    return msgspec.structs.replace(mapping, **changes, enabled=enabled, last_modified=time.time())


def mapping_arn(settings: Settings, uuid_: str) -> str:
    return f"arn:aws:lambda:{settings.region}:{settings.account_id}:event-source-mapping:{uuid_}"


def render(settings: Settings, mapping: EventSourceMapping) -> dict[str, Any]:
    """An EventSourceMappingConfiguration: SQS mappings leave out the stream-only members."""
    body: dict[str, Any] = {"UUID": mapping.uuid}
    stream = mapping.source_service != SQS
    if stream:
        body["StartingPosition"] = mapping.starting_position
        if mapping.starting_position_timestamp is not None:
            body["StartingPositionTimestamp"] = mapping.starting_position_timestamp
    body["BatchSize"] = mapping.batch_size
    body["MaximumBatchingWindowInSeconds"] = mapping.maximum_batching_window_s
    if stream:
        body["ParallelizationFactor"] = mapping.parallelization_factor
    body["EventSourceArn"] = mapping.event_source_arn
    if mapping.filter_patterns:
        body["FilterCriteria"] = {"Filters": [{"Pattern": p} for p in mapping.filter_patterns]}
    body["FunctionArn"] = mapping.function_arn
    body["LastModified"] = mapping.last_modified
    if stream:
        body["LastProcessingResult"] = mapping.last_processing_result
    body["State"] = mapping.state
    body["StateTransitionReason"] = mapping.state_transition_reason
    if stream:
        body.update(_stream_members(mapping))
    body["FunctionResponseTypes"] = mapping.function_response_types
    if mapping.maximum_concurrency is not None:
        body["ScalingConfig"] = {"MaximumConcurrency": mapping.maximum_concurrency}
    if mapping.kms_key_arn:
        body["KMSKeyArn"] = mapping.kms_key_arn
    body["EventSourceMappingArn"] = mapping_arn(settings, mapping.uuid)
    return body


def _stream_members(mapping: EventSourceMapping) -> dict[str, Any]:
    on_failure = {"Destination": mapping.on_failure} if mapping.on_failure else {}
    return {
        "DestinationConfig": {"OnFailure": on_failure},
        "MaximumRecordAgeInSeconds": mapping.maximum_record_age_s,
        "BisectBatchOnFunctionError": mapping.bisect_batch_on_function_error,
        "MaximumRetryAttempts": mapping.maximum_retry_attempts,
        "TumblingWindowInSeconds": mapping.tumbling_window_s,
    }
