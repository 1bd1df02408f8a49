"""Tags: TagResource, UntagResource and ListTags for functions, event source mappings and code
signing configs. https://docs.aws.amazon.com/lambda/latest/dg/configuration-tags.html

Functions' and code signing configs' tags live in the TagStore, mappings' in their record.
Code signing configs are not checked for existence here (their store is not this module's).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import msgspec
from quart import Blueprint, Response, request

from bus.arns import Arn
from bus.quotas import TAGS_PER_RESOURCE
from bus.records import EventSourceMapping
from bus.stores import RecordMissing
from bus.stores.tags import TagLimitExceeded
from services.context import ApiContext, api
from services.errors import InvalidParameterValueException, ResourceNotFoundException
from services.functions.refs import function_arn
from services.requests import Problems, RequestShape, decode_body, read_body
from services.responses import json_response

blueprint = Blueprint("tags", __name__)

TAGS = "/2017-03-31/tags/<path:resource>"
# botocore's TaggableResource.
RESOURCE_PATTERN = (
    r"arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:"
    r"(function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?|code-signing-config:csc-[a-z0-9]{17}|"
    r"event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)"
)
MAX_RESOURCE = 256
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
TOO_MANY = "Number of tags exceeds resource tag limit."
NOT_FOUND = "The resource you requested does not exist."
# Given a mapping's tags, its new tags.
TagChange = Callable[[dict[str, str]], dict[str, str]]


class TagInput(RequestShape):
    tags: dict[str, str] | None = None


@blueprint.get(TAGS)
async def list_tags(resource: str) -> Response:
    context = api()
    arn = _resource(context, resource)
    kind, ident = arn.resource_parts[0], arn.resource_parts[1]
    if kind == "event-source-mapping":
        return json_response({"Tags": (await _mapping(context, ident)).tags})
    return json_response({"Tags": await context.stores.tags.get(await _tag_key(context, arn))})


@blueprint.post(TAGS)
async def tag_resource(resource: str) -> Response:
    context = api()
    body = decode_body(await read_body(), TagInput)
    problems = Problems()
    problems.required(body.tags, "tags")
    problems.raise_any()
    if not body.tags:
        raise InvalidParameterValueException(
            "An error occurred and the request cannot be processed."
        )
    tags = body.tags
    arn = _resource(context, resource)
    kind, ident = arn.resource_parts[0], arn.resource_parts[1]
    if kind == "event-source-mapping":
        await _change_mapping(context, ident, lambda old: {**old, **tags})
        return Response(b"", status=204)
    try:
        await context.stores.tags.merge(await _tag_key(context, arn), tags)
    except TagLimitExceeded:
        raise InvalidParameterValueException(TOO_MANY) from None
    await _renew_function(context, arn)
    return Response(b"", status=204)


@blueprint.delete(TAGS)
async def untag_resource(resource: str) -> Response:
    context = api()
    keys = request.args.getlist("tagKeys")
    if not keys:
        problems = Problems()
        problems.required(None, "tagKeys")
        problems.raise_any()
    arn = _resource(context, resource)
    kind, ident = arn.resource_parts[0], arn.resource_parts[1]
    if kind == "event-source-mapping":
        await _change_mapping(
            context, ident, lambda old: {k: v for k, v in old.items() if k not in keys}
        )
        return Response(b"", status=204)
    await context.stores.tags.remove(await _tag_key(context, arn), keys)
    await _renew_function(context, arn)
    return Response(b"", status=204)


def _resource(context: ApiContext, resource: str) -> Arn:
    """The taggable resource's ARN, checked against the model and this region."""
    problems = Problems()
    problems.max_length(resource, "resource", MAX_RESOURCE)
    if re.fullmatch(RESOURCE_PATTERN, resource) is None:
        problems.add(
            resource,
            "resource",
            f"Member must satisfy regular expression pattern: {RESOURCE_PATTERN}",
        )
    problems.raise_any()
    arn = Arn.parse(resource)
    settings = context.settings
    if arn.region != settings.region:
        raise ResourceNotFoundException(
            f"Functions from '{arn.region}' are not reachable in this region ('{settings.region}')"
        )
    parts = arn.resource_parts
    if parts[0] == "function" and len(parts) > 2:
        raise InvalidParameterValueException(
            "Tags on function aliases and versions are not supported. Please specify a function "
            "ARN."
        )
    if arn.account != settings.account_id or parts[0] == "capacity-provider":
        raise ResourceNotFoundException(NOT_FOUND)
    return arn


async def _tag_key(context: ApiContext, arn: Arn) -> str:
    """The tag hash of a function (which must exist) or a code signing config."""
    kind, ident = arn.resource_parts[0], arn.resource_parts[1]
    if kind == "code-signing-config":
        return context.stores.tags.code_signing_config(ident)
    if await context.stores.functions.get(ident) is None:
        raise ResourceNotFoundException(
            f"Function not found: {function_arn(context.settings, ident)}"
        )
    return context.stores.tags.function(ident)


async def _renew_function(context: ApiContext, arn: Arn) -> None:
    """Tagging a function gives its $LATEST a new RevisionId, as on AWS."""
    kind, name = arn.resource_parts[0], arn.resource_parts[1]
    if kind != "function":
        return
    revision = str(uuid.uuid4())
    try:
        await context.stores.functions.update(
            name, lambda r: msgspec.structs.replace(r, revision_id=revision)
        )
    except RecordMissing:
        pass  # deleted meanwhile, with its tags


async def _mapping(context: ApiContext, uuid_: str) -> EventSourceMapping:
    mapping = await context.stores.event_source_mappings.get(uuid_)
    if mapping is None:
        raise ResourceNotFoundException(NOT_FOUND)
    return mapping


async def _change_mapping(context: ApiContext, uuid_: str, retag: TagChange) -> None:
    def change(mapping: EventSourceMapping) -> EventSourceMapping:
        tags = retag(mapping.tags)
        if len(tags) > TAGS_PER_RESOURCE:
            raise InvalidParameterValueException(TOO_MANY)
        return msgspec.structs.replace(mapping, tags=tags)

    try:
        await context.stores.event_source_mappings.update(uuid_, change)
    except RecordMissing:
        raise ResourceNotFoundException(NOT_FOUND) from None
