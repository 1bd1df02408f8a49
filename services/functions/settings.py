"""Function settings stored and returned as AWS does: recursive loop detection
(Get/PutFunctionRecursionConfig), runtime management (Get/PutRuntimeManagementConfig) and
scaling of functions on capacity providers (Get/PutFunctionScalingConfig). Tarn keeps them;
its runtimes are what the runtime images are, whatever the runtime management says.
https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html
"""

from __future__ import annotations

from typing import Any

import msgspec
from quart import Blueprint, Response, request

from bus.records import LATEST, FunctionSettings, VersionSettings
from bus.stores import RecordMissing
from services.context import ApiContext, api
from services.errors import InvalidParameterValueException, ResourceNotFoundException
from services.functions.refs import (
    function_arn,
    function_missing,
    function_ref,
    qualified_arn,
    resolve,
)
from services.requests import Problems, RequestShape, decode_body, read_body
from services.responses import json_response

blueprint = Blueprint("function_settings", __name__)

RECURSION = "/2024-08-31/functions/<function_name>/recursion-config"
RUNTIME = "/2021-07-20/functions/<function_name>/runtime-management-config"
SCALING = "/2025-11-30/functions/<function_name>/function-scaling-config"
RECURSIVE_LOOP = ("Allow", "Terminate")
UPDATE_RUNTIME_ON = ("Auto", "Manual", "FunctionUpdate")
# botocore's RuntimeVersionArn and PublishedFunctionQualifier patterns and limits.
RUNTIME_VERSION_ARN_PATTERN = (
    r"arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\d{1}::runtime:.+"
)
RUNTIME_VERSION_ARN_LENGTH = (26, 2048)
PUBLISHED_QUALIFIER_PATTERN = r"(\$LATEST\.PUBLISHED|[0-9]+)"
EXECUTION_ENVIRONMENTS_MAX = 15_000


class RecursionInput(RequestShape):
    recursive_loop: str | None = None


class RuntimeManagementInput(RequestShape):
    update_runtime_on: str | None = None
    runtime_version_arn: str | None = None


class ScalingConfigInput(RequestShape):
    min_execution_environments: int | None = None
    max_execution_environments: int | None = None


class ScalingInput(RequestShape):
    function_scaling_config: ScalingConfigInput | None = None


@blueprint.get(RECURSION)
async def get_recursion_config(function_name: str) -> Response:
    context = api()
    name = function_ref(function_name).name
    if await context.stores.functions.get(name) is None:
        raise function_missing(context, name)
    settings = await context.stores.function_settings.get(name)
    return json_response({"RecursiveLoop": settings.recursive_loop})


@blueprint.put(RECURSION)
async def put_recursion_config(function_name: str) -> Response:
    context = api()
    body = decode_body(await read_body(), RecursionInput)
    problems = Problems()
    problems.required(body.recursive_loop, "recursiveLoop")
    _enum(problems, body.recursive_loop, "recursiveLoop", RECURSIVE_LOOP)
    problems.raise_any()
    name = function_ref(function_name).name

    def change(current: FunctionSettings, _: list[FunctionSettings]) -> FunctionSettings:
        return msgspec.structs.replace(current, recursive_loop=body.recursive_loop)

    try:
        settings = await context.stores.function_settings.write(name, change)
    except RecordMissing:
        raise function_missing(context, name) from None
    return json_response({"RecursiveLoop": settings.recursive_loop})


@blueprint.get(RUNTIME)
async def get_runtime_management_config(function_name: str) -> Response:
    context = api()
    ref = function_ref(function_name)
    await resolve(context, ref)
    settings = await context.stores.version_settings.get(ref.name, ref.qualifier or LATEST)
    return json_response(_render_runtime(settings, qualified_arn(context, ref)))


@blueprint.put(RUNTIME)
async def put_runtime_management_config(function_name: str) -> Response:
    context = api()
    body = decode_body(await read_body(), RuntimeManagementInput)
    _check_runtime_management(body)
    ref = function_ref(function_name)
    await resolve(context, ref)

    def change(current: VersionSettings) -> VersionSettings:
        return msgspec.structs.replace(
            current,
            update_runtime_on=body.update_runtime_on,
            runtime_version_arn=body.runtime_version_arn,
        )

    settings = await context.stores.version_settings.write(
        ref.name, ref.qualifier or LATEST, change
    )
    return json_response(_render_runtime(settings, qualified_arn(context, ref)))


@blueprint.get(SCALING)
async def get_scaling_config(function_name: str) -> Response:
    context = api()
    name, version = await _published_version(context, function_name)
    settings = await context.stores.version_settings.get(name, version)
    config = _render_scaling(settings)
    body: dict[str, Any] = {"FunctionArn": f"{function_arn(context.settings, name)}:{version}"}
    if config:
        body["AppliedFunctionScalingConfig"] = config
        body["RequestedFunctionScalingConfig"] = config
    return json_response(body)


@blueprint.put(SCALING)
async def put_scaling_config(function_name: str) -> Response:
    context = api()
    body = decode_body(await read_body(), ScalingInput)
    scaling = body.function_scaling_config or ScalingConfigInput()
    problems = Problems()
    for value, member in (
        (scaling.min_execution_environments, "functionScalingConfig.minExecutionEnvironments"),
        (scaling.max_execution_environments, "functionScalingConfig.maxExecutionEnvironments"),
    ):
        problems.bounds(value, member, 0, EXECUTION_ENVIRONMENTS_MAX)
    problems.raise_any()
    low, high = scaling.min_execution_environments, scaling.max_execution_environments
    if low is not None and high is not None and low > high:
        raise InvalidParameterValueException(
            "MinExecutionEnvironments must be less than or equal to MaxExecutionEnvironments."
        )
    name, version = await _published_version(context, function_name)

    def change(current: VersionSettings) -> VersionSettings:
        return msgspec.structs.replace(
            current, min_execution_environments=low, max_execution_environments=high
        )

    await context.stores.version_settings.write(name, version, change)
    record = await context.stores.functions.get(name, version)
    state = str(record.state) if record is not None else "Active"
    return json_response({"FunctionState": state}, 202)


def _check_runtime_management(body: RuntimeManagementInput) -> None:
    problems = Problems()
    problems.required(body.update_runtime_on, "updateRuntimeOn")
    _enum(problems, body.update_runtime_on, "updateRuntimeOn", UPDATE_RUNTIME_ON)
    arn = body.runtime_version_arn
    if arn is not None and not (
        RUNTIME_VERSION_ARN_LENGTH[0] <= len(arn) <= RUNTIME_VERSION_ARN_LENGTH[1]
    ):
        problems.add(
            arn, "runtimeVersionArn", "Member must have length greater than or equal to 26"
        )
    problems.pattern(arn, "runtimeVersionArn", RUNTIME_VERSION_ARN_PATTERN)
    problems.raise_any()
    if body.update_runtime_on == "Manual" and arn is None:
        raise InvalidParameterValueException(
            "Runtime version ARN must be set when UpdateRuntimeOn is Manual."
        )
    if body.update_runtime_on != "Manual" and arn is not None:
        raise InvalidParameterValueException(
            "Runtime version ARN can only be set when UpdateRuntimeOn is Manual."
        )


async def _published_version(context: ApiContext, function_name: str) -> tuple[str, str]:
    """The function and the published version Qualifier names ($LATEST.PUBLISHED: the last)."""
    name = function_ref(function_name).name
    qualifier = request.args.get("Qualifier")
    problems = Problems()
    problems.required(qualifier, "qualifier")
    problems.pattern(qualifier, "qualifier", PUBLISHED_QUALIFIER_PATTERN)
    problems.raise_any()
    assert qualifier is not None
    versions = await context.stores.functions.versions(name)
    if not versions:
        raise function_missing(context, name)
    published = [v.version for v in versions if v.version != LATEST]
    version = (
        (published[-1] if published else None) if qualifier == "$LATEST.PUBLISHED" else qualifier
    )
    if version not in published:
        raise ResourceNotFoundException(
            f"Function not found: {function_arn(context.settings, name)}:{qualifier}"
        )
    return name, version


def _enum(problems: Problems, value: str | None, member: str, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        problems.add(value, member, f"Member must satisfy enum value set: [{', '.join(allowed)}]")


def _render_runtime(settings: VersionSettings, arn: str) -> dict[str, Any]:
    body: dict[str, Any] = {"UpdateRuntimeOn": settings.update_runtime_on, "FunctionArn": arn}
    if settings.runtime_version_arn:
        body["RuntimeVersionArn"] = settings.runtime_version_arn
    return body


def _render_scaling(settings: VersionSettings) -> dict[str, int]:
    config = {
        "MinExecutionEnvironments": settings.min_execution_environments,
        "MaxExecutionEnvironments": settings.max_execution_environments,
    }
    return {k: v for k, v in config.items() if v is not None}
