"""Function management: Create/Get/List/Delete functions and update their code or configuration.

https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html and its siblings.
The API validates and records; the function-manager worker makes code runnable and moves
State (Pending -> Active) and LastUpdateStatus (InProgress -> Successful) on.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import msgspec
from quart import Blueprint, Response

from bus.aliases import is_version
from bus.records import LATEST, FunctionVersion, LastUpdateStatus, LayerCode, State
from bus.stores import RecordMissing
from services import code_signing
from services.context import ApiContext, api
from services.errors import (
    InvalidParameterValueException,
    PreconditionFailedException,
    ResourceConflictException,
)
from services.functions import packages
from services.functions.concurrency import reserved_concurrency
from services.functions.configurations import (
    last_modified_now,
    render_configuration,
    render_listed,
)
from services.functions.layers import check_combined_size, resolve_layers
from services.functions.listing import all_versions, list_all_versions
from services.functions.options import check_snap_start, option_changes
from services.functions.refs import (
    FunctionRef,
    function_arn,
    function_missing,
    function_ref,
    not_found,
    parse_function_name,
    resolve,
)
from services.functions.requests import (
    ConfigurationInput,
    CreateFunctionInput,
    UpdateCodeInput,
    check_architectures,
    check_configuration,
    check_runtime_and_environment,
)
from services.functions.versions import REVISION_MISMATCH, provision, publish
from services.requests import Problems, decode_body, list_page, listing, read_body
from services.responses import json_response

blueprint = Blueprint("functions", __name__)

FUNCTIONS = "/2015-03-31/functions"


@blueprint.post(FUNCTIONS)
async def create_function() -> Response:
    context = api()
    packages.check_request_size("CreateFunction")
    body = decode_body(await read_body(), CreateFunctionInput)
    problems = Problems()
    problems.required(body.function_name, "functionName")
    problems.required(body.role, "role")
    problems.required(body.code, "code")
    check_configuration(body, problems)
    check_architectures(body.architectures, problems)
    if body.package_type not in (None, "Zip", "Image"):
        problems.add(
            body.package_type, "packageType", "Member must satisfy enum value set: [Zip, Image]"
        )
    problems.raise_any()
    assert body.function_name is not None and body.code is not None
    name = parse_function_name(body.function_name).name
    package_type = body.package_type or "Zip"
    packages.check_package(
        context, package_type, body.code, body.runtime, body.handler, body.layers
    )
    check_runtime_and_environment(body)
    if body.code_signing_config_arn:
        await code_signing.check_attachable(context, body.code_signing_config_arn)
    layers = await resolve_layers(context, body.layers)
    code = await packages.load(context, body.code)
    await check_combined_size(context, code.sha256_hex, layers or [])
    record = FunctionVersion(
        name=name,
        arn=function_arn(context.settings, name),
        package_type=package_type,
        image_uri=code.image_uri,
        code_sha256_hex=code.sha256_hex,
        code_size=code.size,
        code_folder=code.folder,
        revision_id=str(uuid.uuid4()),
        last_modified=last_modified_now(),
        log_group=f"/aws/lambda/{name}",
        state=State.PENDING,
        state_reason="The function is being created.",
        state_reason_code="Creating",
    )
    record = _apply_configuration(record, body, layers)
    if body.architectures:
        record.architectures = body.architectures
    if not await context.stores.functions.create(record, body.tags or {}):
        raise ResourceConflictException(f"Function already exist: {name}")
    if body.code_signing_config_arn:
        await code_signing.attach(context, name, body.code_signing_config_arn)
    await provision(context, record)
    if body.publish:  # AWS answers with version 1 under the unqualified ARN
        record = await publish(context, name)
    return json_response(render_configuration(record, context.settings.region, record.arn), 201)


@blueprint.get(FUNCTIONS)
@blueprint.get(FUNCTIONS + "/")
async def list_functions() -> Response:
    context = api()
    page = list_page()
    if all_versions():
        return await list_all_versions(context, page)
    names = await context.stores.functions.names_after(page.marker, page.size + 1)
    names, next_marker = page.cut(names, str)
    records = await context.stores.functions.get_many(names)
    region = context.settings.region
    return listing("Functions", [render_listed(r, region) for r in records], next_marker)


@blueprint.get(FUNCTIONS + "/<function_name>")
async def get_function(function_name: str) -> Response:
    context = api()
    found = await resolve(context, function_ref(function_name))
    record = await packages.refreshed(found.record)
    body: dict[str, object] = {
        "Configuration": render_configuration(record, context.settings.region, found.arn),
        "Code": packages.code_description(context, record),
    }
    tags = await context.stores.tags.get(context.stores.tags.function(record.name))
    if tags:
        body["Tags"] = tags
    reserved = await reserved_concurrency(context, record.name)
    if reserved is not None:
        body["Concurrency"] = {"ReservedConcurrentExecutions": reserved}
    return json_response(body)


@blueprint.get(FUNCTIONS + "/<function_name>/configuration")
async def get_function_configuration(function_name: str) -> Response:
    context = api()
    found = await resolve(context, function_ref(function_name))
    record = await packages.refreshed(found.record)
    return json_response(render_configuration(record, context.settings.region, found.arn))


@blueprint.delete(FUNCTIONS + "/<function_name>")
async def delete_function(function_name: str) -> Response:
    context = api()
    ref = function_ref(function_name)
    if ref.qualifier == LATEST:
        raise InvalidParameterValueException(
            "$LATEST version cannot be deleted without deleting the function."
        )
    if ref.qualifier is not None and not is_version(ref.qualifier):
        raise InvalidParameterValueException("Deletion of aliases is not currently supported.")
    if await context.stores.functions.get(ref.name) is None:
        raise function_missing(context, ref.name)
    if ref.qualifier is None:
        await context.stores.functions.delete(ref.name)
        return Response(b"", status=204)
    in_use = await context.stores.aliases.delete_version(ref.name, ref.qualifier)
    if in_use:
        raise ResourceConflictException(
            "Unable to delete version because the following aliases reference it: "
            f"[{', '.join(in_use)}]"
        )
    return Response(b"", status=204)


@blueprint.put(FUNCTIONS + "/<function_name>/code")
async def update_function_code(function_name: str) -> Response:
    context = api()
    packages.check_request_size("UpdateFunctionCode")
    body = decode_body(await read_body(), UpdateCodeInput)
    problems = Problems()
    check_architectures(body.architectures, problems)
    problems.raise_any()
    ref = function_ref(function_name)
    code = await packages.load(context, body)
    current = await _latest(context, ref)
    await check_combined_size(context, code.sha256_hex, current.layer_code)

    def change(record: FunctionVersion) -> FunctionVersion:
        _check_updatable(record, body.revision_id)
        packages.check_update(record.package_type, code)
        record = msgspec.structs.replace(
            record,
            image_uri=code.image_uri,
            code_sha256_hex=code.sha256_hex,
            code_size=code.size,
            code_folder=code.folder,
            architectures=body.architectures or record.architectures,
        )
        return _start_update(record)

    if body.dry_run:
        record = change(current)
        return json_response(render_configuration(record, context.settings.region))
    record = await _update(context, ref, change)
    await provision(context, record)
    if body.publish:
        record = await publish(context, record.name)
    return json_response(render_configuration(record, context.settings.region))


@blueprint.put(FUNCTIONS + "/<function_name>/configuration")
async def update_function_configuration(function_name: str) -> Response:
    context = api()
    body = decode_body(await read_body(), ConfigurationInput)
    problems = Problems()
    check_configuration(body, problems)
    problems.raise_any()
    check_runtime_and_environment(body)
    ref = function_ref(function_name)
    layers = await resolve_layers(context, body.layers)
    if layers:
        current = await _latest(context, ref)
        await check_combined_size(context, current.code_sha256_hex, layers)

    def change(record: FunctionVersion) -> FunctionVersion:
        _check_updatable(record, body.revision_id)
        return _start_update(_apply_configuration(record, body, layers))

    record = await _update(context, ref, change)
    await provision(context, record)
    return json_response(render_configuration(record, context.settings.region))


def _apply_configuration(
    record: FunctionVersion, body: ConfigurationInput, layers: list[LayerCode] | None
) -> FunctionVersion:
    """A copy of `record` with every member `body` sets; `layers` are its Layers resolved."""
    changes: dict[str, object] = {"layer_code": layers} if layers is not None else {}
    simple = {
        "role": body.role,
        "handler": body.handler,
        "description": body.description,
        "timeout_s": body.timeout,
        "memory_mb": body.memory_size,
        "runtime": body.runtime,
        "kms_key_arn": body.kms_key_arn,
        "layers": body.layers,
        "image_config": body.image_config,
    }
    changes.update({k: v for k, v in simple.items() if v is not None})
    if body.environment is not None:
        changes["environment"] = body.environment.variables or {}
    if body.ephemeral_storage is not None and body.ephemeral_storage.size is not None:
        changes["ephemeral_storage_mb"] = body.ephemeral_storage.size
    if body.tracing_config is not None and body.tracing_config.mode is not None:
        changes["tracing_mode"] = body.tracing_config.mode
    if body.dead_letter_config is not None:
        changes["dead_letter_target_arn"] = body.dead_letter_config.target_arn or None
    changes |= option_changes(record, body.vpc_config, body.snap_start, body.logging_config)
    record = msgspec.structs.replace(record, **changes)
    check_snap_start(record)
    return record


def _check_updatable(record: FunctionVersion, revision_id: str | None) -> None:
    if revision_id is not None and revision_id != record.revision_id:
        raise PreconditionFailedException(REVISION_MISMATCH)
    if record.state == State.PENDING:
        raise ResourceConflictException(
            "The operation cannot be performed at this time. The function is currently in "
            "the following state: Pending"
        )
    if record.last_update_status == LastUpdateStatus.IN_PROGRESS:
        raise ResourceConflictException(
            "The operation cannot be performed at this time. An update is in progress for "
            f"resource: {record.arn}"
        )


def _start_update(record: FunctionVersion) -> FunctionVersion:
    return msgspec.structs.replace(
        record,
        revision_id=str(uuid.uuid4()),
        last_modified=last_modified_now(),
        last_update_status=LastUpdateStatus.IN_PROGRESS,
        last_update_status_reason="The function is being created.",
        last_update_status_reason_code="Creating",
    )


async def _latest(context: ApiContext, ref: FunctionRef) -> FunctionVersion:
    record = await context.stores.functions.get(ref.name)
    if record is None:
        raise not_found(context, ref)
    return record


async def _update(
    context: ApiContext, ref: FunctionRef, change: Callable[[FunctionVersion], FunctionVersion]
) -> FunctionVersion:
    if ref.qualifier not in (None, LATEST):
        raise InvalidParameterValueException("Only $LATEST can be updated.")
    try:
        return await context.stores.functions.update(ref.name, change)
    except RecordMissing:
        raise not_found(context, ref) from None
