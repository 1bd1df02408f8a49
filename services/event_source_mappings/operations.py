"""Event source mappings: CreateEventSourceMapping, GetEventSourceMapping,
ListEventSourceMappings, UpdateEventSourceMapping and DeleteEventSourceMapping.

https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html
The API records what is asked and sets a transitional State (Creating, Updating, Enabling,
Disabling, Deleting); the poller holding the mapping's lease settles it, as on AWS, where a
mapping in such a state refuses updates and deletion (ResourceInUseException).
"""

from __future__ import annotations

import msgspec
from quart import Blueprint, Response, request

from bus.aws import CompanionError, queue_url
from bus.records import EventSourceMapping, MappingState
from bus.stores import RecordMissing
from services.context import ApiContext, api
from services.errors import (
    InvalidParameterValueException,
    ResourceConflictException,
    ResourceInUseException,
    ResourceNotFoundException,
    ServiceException,
)
from services.event_source_mappings.configurations import (
    TRANSITIONAL,
    new_mapping,
    render,
    updated_mapping,
)
from services.event_source_mappings.requests import (
    ARN_PATTERN,
    SQS,
    CreateMappingInput,
    MappingSettingsInput,
    UpdateMappingInput,
    check_create,
    check_filters,
    check_model,
    check_on_success,
    check_sqs_settings,
    check_stream_settings,
    is_stream_arn,
    source_of,
)
from services.functions.refs import parse_function_name, qualified_arn, resolve
from services.requests import Problems, decode_body, list_page, read_body
from services.responses import json_response

blueprint = Blueprint("event_source_mappings", __name__)

MAPPINGS = "/2015-03-31/event-source-mappings"
MAPPING = MAPPINGS + "/<uuid>"
# ListEventSourceMappings answers at most 100 items, whatever MaxItems asks for.
LIST_PAGE_MAX = 100
NOT_FOUND = "The resource you requested does not exist."
IN_USE = "Cannot {} the event source mapping because it is in use."
NO_QUEUE = (
    "Error occurred while ReceiveMessage. SQS Error Code: "
    "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does "
    "not exist or you do not have access to it."
)
NO_QUEUE_CODES = ("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue")

# The function a mapping invokes: bare name, qualifier, and FunctionArn as AWS renders it.
FunctionTarget = tuple[str, str | None, str]


@blueprint.post(MAPPINGS)
@blueprint.post(MAPPINGS + "/")
async def create_mapping() -> Response:
    context = api()
    body = decode_body(await read_body(), CreateMappingInput)
    check_model(body)
    check_on_success(body)
    source = source_of(body)
    check_create(body, source)
    assert body.function_name is not None and body.event_source_arn is not None
    name, qualifier, function_arn = await _function(context, body.function_name)
    await _check_source_exists(context, source, body.event_source_arn)
    mapping = new_mapping(body, source, name, qualifier, function_arn)
    existing = await context.stores.event_source_mappings.create(
        mapping,
        duplicate=lambda other: (
            other.event_source_arn == mapping.event_source_arn
            and other.function_arn == mapping.function_arn
        ),
    )
    if existing is not None:
        raise _conflict(existing, name)
    return json_response(render(context.settings, mapping), 202)


@blueprint.get(MAPPING)
async def get_mapping(uuid: str) -> Response:
    context = api()
    return json_response(render(context.settings, await _existing(context, uuid)))


@blueprint.get(MAPPINGS)
@blueprint.get(MAPPINGS + "/")
async def list_mappings() -> Response:
    context = api()
    source_arn = request.args.get("EventSourceArn")
    function_name = request.args.get("FunctionName")
    problems = Problems()
    problems.pattern(source_arn, "eventSourceArn", ARN_PATTERN)
    page = list_page(most=LIST_PAGE_MAX, problems=problems)
    function_arn = None
    if function_name is not None:
        function_arn = qualified_arn(context, parse_function_name(function_name))
    matching = [
        m
        for m in await context.stores.event_source_mappings.all()
        if source_arn in (None, m.event_source_arn) and function_arn in (None, m.function_arn)
    ]
    if page.marker:
        matching = [m for m in matching if m.uuid > page.marker]
    return page.respond(
        "EventSourceMappings", matching, lambda m: render(context.settings, m), lambda m: m.uuid
    )


@blueprint.put(MAPPING)
async def update_mapping(uuid: str) -> Response:
    context = api()
    body = decode_body(await read_body(), UpdateMappingInput)
    check_model(body)
    check_on_success(body)
    check_filters(body.filter_patterns)
    current = await _existing(context, uuid)
    _check_not_in_use(current, "update")
    _check_settings(body, current)
    function = None
    if body.function_name is not None:
        function = await _function(context, body.function_name)

    def change(mapping: EventSourceMapping) -> EventSourceMapping:
        _check_not_in_use(mapping, "update")
        _check_settings(body, mapping)
        return updated_mapping(mapping, body, function)

    try:
        updated = await context.stores.event_source_mappings.update(uuid, change)
    except RecordMissing:
        raise ResourceNotFoundException(NOT_FOUND) from None
    return json_response(render(context.settings, updated), 202)


@blueprint.delete(MAPPING)
async def delete_mapping(uuid: str) -> Response:
    context = api()

    def change(mapping: EventSourceMapping) -> EventSourceMapping:
        _check_not_in_use(mapping, "delete")
        return msgspec.structs.replace(mapping, state=MappingState.DELETING)

    try:
        deleting = await context.stores.event_source_mappings.update(uuid, change)
    except RecordMissing:
        raise ResourceNotFoundException(NOT_FOUND) from None
    return json_response(render(context.settings, deleting), 202)


async def _existing(context: ApiContext, uuid: str) -> EventSourceMapping:
    mapping = await context.stores.event_source_mappings.get(uuid)
    if mapping is None:
        raise ResourceNotFoundException(NOT_FOUND)
    return mapping


def _check_not_in_use(mapping: EventSourceMapping, verb: str) -> None:
    if mapping.state in TRANSITIONAL:
        raise ResourceInUseException(IN_USE.format(verb))


def _check_settings(body: MappingSettingsInput, mapping: EventSourceMapping) -> None:
    """An update's members against the mapping's source, with the values it would have."""
    if mapping.source_service != SQS:
        check_stream_settings(body)
        return
    batch = body.batch_size if body.batch_size is not None else mapping.batch_size
    window = body.maximum_batching_window_in_seconds
    window = mapping.maximum_batching_window_s if window is None else window
    check_sqs_settings(body, mapping.event_source_arn, batch, window)


async def _function(context: ApiContext, function_name: str) -> FunctionTarget:
    """The function (version or alias) the request names; it must exist."""
    ref = parse_function_name(function_name)
    try:
        await resolve(context, ref)
    except ResourceNotFoundException:
        raise InvalidParameterValueException("Function does not exist") from None
    return ref.name, ref.qualifier, qualified_arn(context, ref)


async def _check_source_exists(context: ApiContext, source: str, arn: str) -> None:
    """Ask the companion endpoint whether the queue or stream exists, as Lambda asks SQS or
    DynamoDB Streams; without a companion there is nobody to ask."""
    client = context.aws
    if source != SQS and not is_stream_arn(arn):
        raise InvalidParameterValueException(f"Stream not found: {arn}")
    if client is None:
        return
    try:
        if source == SQS:
            await queue_url(client, arn)
        else:
            await client.ok(
                "dynamodb", "DynamoDBStreams_20120810.DescribeStream", {"StreamArn": arn}
            )
    except CompanionError as exc:
        if exc.unreachable:
            raise ServiceException(f"Cannot describe {arn}: {exc.message}") from None
        if source == SQS and exc.code in NO_QUEUE_CODES:
            raise InvalidParameterValueException(NO_QUEUE) from None
        if source != SQS and exc.code == "ResourceNotFoundException":
            raise InvalidParameterValueException(f"Stream not found: {arn}") from None
        raise ServiceException(f"{client.endpoint} refused to describe {arn}: {exc}") from None


def _conflict(existing: EventSourceMapping, name: str) -> ResourceConflictException:
    arn = existing.event_source_arn
    if existing.source_service == SQS:
        return ResourceConflictException(
            f'An event source mapping with SQS arn (" {arn} ") and function (" {name} ") '
            f"already exists. Please update or delete the existing mapping with UUID "
            f"{existing.uuid}"
        )
    return ResourceConflictException(
        f'The event source arn (" {arn} ") and function (" {name} ") provided mapping already '
        f"exists. Please update or delete the existing mapping with UUID {existing.uuid}"
    )
