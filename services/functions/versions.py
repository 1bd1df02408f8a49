"""Function versions: PublishVersion and ListVersionsByFunction, and publishing itself.

https://docs.aws.amazon.com/lambda/latest/dg/configuration-versions.html
A version is an immutable copy of $LATEST, provisioned (and run) on its own. Publishing
$LATEST unchanged since the last version returns that version instead of a new one.
"""

from __future__ import annotations

import uuid

import msgspec
from quart import Blueprint, Response

from bus.messages import FUNCTION_COMMANDS, ProvisionFunction
from bus.records import LATEST, FunctionVersion, State
from bus.stores import RecordMissing
from bus.transport.streams import publish as publish_command
from services.context import ApiContext, api
from services.errors import InvalidParameterValueException, PreconditionFailedException
from services.functions.configurations import (
    code_sha256_b64,
    last_modified_now,
    render_configuration,
    render_listed,
)
from services.functions.refs import function_missing, function_ref
from services.requests import Problems, RequestShape, decode_body, list_page, read_body
from services.responses import json_response

blueprint = Blueprint("versions", __name__)

VERSIONS = "/2015-03-31/functions/<function_name>/versions"
REVISION_MISMATCH = (
    "The Revision Id provided does not match the latest Revision Id. Call the "
    "GetFunction/GetAlias API to retrieve the latest Revision Id"
)
# What publishing changes in the copy, and what the provisioning worker changes: none of it
# makes $LATEST differ from the version published from it.
NOT_CONFIGURATION = {
    "version": LATEST,
    "revision_id": "",
    "last_modified": "",
    "description": "",  # PublishVersion may give the version a description of its own
    "state": "",
    "state_reason": None,
    "state_reason_code": None,
    "last_update_status": None,
    "last_update_status_reason": None,
    "last_update_status_reason_code": None,
    "executor": None,
}


class PublishVersionInput(RequestShape):
    code_sha256: str | None = None
    description: str | None = None
    revision_id: str | None = None


@blueprint.post(VERSIONS)
async def publish_version(function_name: str) -> Response:
    context = api()
    body = decode_body(await read_body(), PublishVersionInput)
    problems = Problems()
    problems.max_length(body.description, "description", 256)
    problems.raise_any()
    name = function_ref(function_name).name
    record = await publish(
        context,
        name,
        description=body.description,
        code_sha256=body.code_sha256,
        revision_id=body.revision_id,
    )
    return json_response(render_configuration(record, context.settings.region), 201)


@blueprint.get(VERSIONS)
async def list_versions_by_function(function_name: str) -> Response:
    context = api()
    name = function_ref(function_name).name
    page = list_page()
    records = await context.stores.functions.versions(name)
    if not records:
        raise function_missing(context, name)
    if page.marker:
        records = [r for r in records if _order(r.version) > _order(page.marker)]
    region = context.settings.region
    return page.respond(
        "Versions",
        records,
        lambda r: render_listed(r, region, function_arn=r.qualified_arn),
        lambda r: r.version,
    )


async def publish(
    context: ApiContext,
    name: str,
    *,
    description: str | None = None,
    code_sha256: str | None = None,
    revision_id: str | None = None,
) -> FunctionVersion:
    """Publish $LATEST as the next version (or return the last, if $LATEST is unchanged)."""

    def version_of(latest: FunctionVersion, number: str) -> FunctionVersion:
        if revision_id is not None and revision_id != latest.revision_id:
            raise PreconditionFailedException(REVISION_MISMATCH)
        current = code_sha256_b64(latest.code_sha256_hex)
        if code_sha256 and code_sha256 != current:
            raise InvalidParameterValueException(
                f"CodeSHA256 ({code_sha256}) is different from current CodeSHA256 in $LATEST "
                f"({current}). Please try again with the CodeSHA256 in $LATEST."
            )
        return msgspec.structs.replace(
            latest,
            version=number,
            description=latest.description if description is None else description,
            revision_id=str(uuid.uuid4()),
            last_modified=last_modified_now(),
            # A new version starts Pending until the worker provisions it, as on AWS.
            state=State.PENDING,
            state_reason="The function is being created.",
            state_reason_code="Creating",
            last_update_status=None,
            last_update_status_reason=None,
            last_update_status_reason_code=None,
        )

    try:
        record = await context.stores.functions.publish(name, version_of, _unchanged)
    except RecordMissing:
        raise function_missing(context, name) from None
    await provision(context, record)
    return record


async def provision(context: ApiContext, record: FunctionVersion) -> None:
    """Ask the function manager to make this version runnable and move its state on."""
    command = ProvisionFunction(
        function_name=record.name, qualifier=record.version, revision_id=record.revision_id
    )
    await publish_command(context.redis, context.keys.function_commands, FUNCTION_COMMANDS, command)


def _unchanged(latest: FunctionVersion, published: FunctionVersion) -> bool:
    """Whether $LATEST has the code and configuration `published` was published with."""
    return msgspec.structs.replace(latest, **NOT_CONFIGURATION) == msgspec.structs.replace(
        published, **NOT_CONFIGURATION
    )


def _order(version: str) -> int:
    """Versions list $LATEST first, then by number."""
    return -1 if version == LATEST else int(version) if version.isdigit() else -2
