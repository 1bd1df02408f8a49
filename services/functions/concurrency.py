"""Reserved and provisioned concurrency: Put/Get/DeleteFunctionConcurrency and
Put/Get/Delete/ListProvisionedConcurrencyConfigs.

The API stores what is asked (bus/stores function_settings and provisioned_concurrency) with
AWS's checks; the pool enforces them. https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html
"""

from __future__ import annotations

from typing import Any

import msgspec
from quart import Blueprint, Response, request

from bus.aliases import is_version
from bus.records import LATEST, FunctionSettings, ProvisionedConcurrencyConfig
from bus.stores import RecordMissing
from bus.stores.function_settings import SettingsChange
from services.context import ApiContext, api
from services.errors import (
    InvalidParameterValueException,
    ProvisionedConcurrencyConfigNotFoundException,
    ResourceConflictException,
    ResourceNotFoundException,
)
from services.functions.configurations import last_modified_now
from services.functions.refs import function_arn, function_missing, function_ref
from services.requests import Problems, RequestShape, decode_body, list_page, read_body
from services.responses import json_response

blueprint = Blueprint("concurrency", __name__)

RESERVED = "/2017-10-31/functions/<function_name>/concurrency"
RESERVED_GET = "/2019-09-30/functions/<function_name>/concurrency"
PROVISIONED = "/2019-09-30/functions/<function_name>/provisioned-concurrency"
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
MIN_UNRESERVED = 100
PROVISIONED_PAGE_MAX = 50  # botocore's MaxProvisionedConcurrencyConfigListItems
QUALIFIER_PATTERN = r"(|[a-zA-Z0-9$_-]+)"
NOT_PUBLISHED = "The function resource provided must be an alias or a published version."


class ReservedInput(RequestShape):
    reserved_concurrent_executions: int | None = None


class ProvisionedInput(RequestShape):
    provisioned_concurrent_executions: int | None = None


@blueprint.put(RESERVED)
async def put_function_concurrency(function_name: str) -> Response:
    context = api()
    body = decode_body(await read_body(), ReservedInput)
    problems = Problems()
    problems.required(body.reserved_concurrent_executions, "reservedConcurrentExecutions")
    if body.reserved_concurrent_executions is not None:
        problems.bounds(
            body.reserved_concurrent_executions, "reservedConcurrentExecutions", 0, 2**31 - 1
        )
    problems.raise_any()
    reserved = body.reserved_concurrent_executions
    assert reserved is not None
    limit = context.settings.account_concurrency

    def change(current: FunctionSettings, everyone: list[FunctionSettings]) -> FunctionSettings:
        others = sum(
            s.reserved_concurrency or 0
            for s in everyone
            if s.function_name != current.function_name
        )
        if limit - others - reserved < MIN_UNRESERVED:
            raise InvalidParameterValueException(
                "Specified ReservedConcurrentExecutions for function decreases account's "
                f"UnreservedConcurrentExecution below its minimum value of [{MIN_UNRESERVED}]."
            )
        return msgspec.structs.replace(current, reserved_concurrency=reserved)

    await _write_settings(context, function_name, change)
    return json_response({"ReservedConcurrentExecutions": reserved})


@blueprint.get(RESERVED_GET)
async def get_function_concurrency(function_name: str) -> Response:
    context = api()
    name = await _existing_function(context, function_name)
    reserved = await reserved_concurrency(context, name)
    return json_response({} if reserved is None else {"ReservedConcurrentExecutions": reserved})


@blueprint.delete(RESERVED)
async def delete_function_concurrency(function_name: str) -> Response:
    context = api()

    def change(current: FunctionSettings, _: list[FunctionSettings]) -> FunctionSettings:
        return msgspec.structs.replace(current, reserved_concurrency=None)

    await _write_settings(context, function_name, change)
    return Response(b"", status=204)


async def reserved_concurrency(context: ApiContext, name: str) -> int | None:
    """The function's reserved concurrency; None when it shares the unreserved pool."""
    return (await context.stores.function_settings.get(name)).reserved_concurrency


@blueprint.put(PROVISIONED)
async def put_provisioned(function_name: str) -> Response:
    context = api()
    body = decode_body(await read_body(), ProvisionedInput)
    qualifier = request.args.get("Qualifier")
    problems = Problems()
    _qualifier_problems(problems, qualifier)
    requested = body.provisioned_concurrent_executions
    problems.required(requested, "provisionedConcurrentExecutions")
    if requested is not None:
        problems.bounds(requested, "provisionedConcurrentExecutions", 1, 2**31 - 1)
    problems.raise_any()
    assert qualifier is not None and requested is not None
    if qualifier == LATEST:
        raise InvalidParameterValueException(
            "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
        )
    name = await _existing_function(context, function_name)
    version = await _version_of(context, name, qualifier)
    await _check_provisioned(context, name, qualifier, version, requested)

    def change(current: ProvisionedConcurrencyConfig | None) -> ProvisionedConcurrencyConfig:
        return ProvisionedConcurrencyConfig(
            function_name=name,
            qualifier=qualifier,
            requested=requested,
            allocated=0 if current is None else min(current.allocated, requested),
            available=0 if current is None else min(current.available, requested),
            last_modified=last_modified_now(),
        )

    config = await context.stores.provisioned_concurrency.write(name, qualifier, change)
    return json_response(render_provisioned(config), 202)


@blueprint.get(PROVISIONED)
async def get_provisioned(function_name: str) -> Response:
    """GetProvisionedConcurrencyConfig, or with `List=ALL` ListProvisionedConcurrencyConfigs."""
    if request.args.get("List") == "ALL":
        return await _list_provisioned(function_name)
    context = api()
    name, qualifier = await _provisioned_target(context, function_name)
    config = await context.stores.provisioned_concurrency.get(name, qualifier)
    if config is None:
        raise ProvisionedConcurrencyConfigNotFoundException(
            "No Provisioned Concurrency Config found for this function"
        )
    return json_response(render_provisioned(config))


@blueprint.delete(PROVISIONED)
async def delete_provisioned(function_name: str) -> Response:
    context = api()
    name, qualifier = await _provisioned_target(context, function_name)
    await context.stores.provisioned_concurrency.delete(name, qualifier)
    return Response(b"", status=204)


async def _list_provisioned(function_name: str) -> Response:
    context = api()
    name = await _existing_function(context, function_name)
    page = list_page(high=PROVISIONED_PAGE_MAX, most=PROVISIONED_PAGE_MAX)
    configs = await context.stores.provisioned_concurrency.all(name)
    configs = [c for c in configs if not page.marker or c.qualifier > page.marker]

    def render(config: ProvisionedConcurrencyConfig) -> dict[str, Any]:
        arn = f"{function_arn(context.settings, name)}:{config.qualifier}"
        return {"FunctionArn": arn} | render_provisioned(config)

    return page.respond("ProvisionedConcurrencyConfigs", configs, render, lambda c: c.qualifier)


async def _provisioned_target(context: ApiContext, function_name: str) -> tuple[str, str]:
    """Get/Delete: the function and the version or alias named by Qualifier, which exist."""
    qualifier = request.args.get("Qualifier")
    problems = Problems()
    _qualifier_problems(problems, qualifier)
    problems.raise_any()
    assert qualifier is not None
    if qualifier == LATEST:
        raise InvalidParameterValueException(NOT_PUBLISHED)
    name = await _existing_function(context, function_name)
    await _version_of(context, name, qualifier)
    return name, qualifier


async def _version_of(context: ApiContext, name: str, qualifier: str) -> str:
    """The published version `qualifier` names (itself, or the alias's version)."""
    arn = f"{function_arn(context.settings, name)}:{qualifier}"
    if is_version(qualifier):
        if await context.stores.functions.get(name, qualifier) is None:
            raise ResourceNotFoundException(f"Function not found: {arn}")
        return qualifier
    alias = await context.stores.aliases.get(name, qualifier)
    if alias is None:
        raise ResourceNotFoundException(f"Cannot find alias arn: {arn}")
    if alias.function_version == LATEST:
        raise InvalidParameterValueException(
            "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
        )
    return alias.function_version


async def _check_provisioned(
    context: ApiContext, name: str, qualifier: str, version: str, requested: int
) -> None:
    """AWS's conflicts: a version and an alias pointing at it cannot both be provisioned, and
    provisioned concurrency must fit in the function's reserved concurrency."""
    configs = await context.stores.provisioned_concurrency.all(name)
    others = [c for c in configs if c.qualifier != qualifier]
    if qualifier != version and any(c.qualifier == version for c in others):
        raise ResourceConflictException(
            "Alias can't be used for Provisioned Concurrency configuration on an already "
            "Provisioned version"
        )
    if qualifier == version:
        aliases = {a.name: a for a in await context.stores.aliases.all(name)}
        if any(
            c.qualifier in aliases and aliases[c.qualifier].function_version == version
            for c in others
        ):
            raise ResourceConflictException("Version is pointed by a Provisioned Concurrency alias")
    reserved = await reserved_concurrency(context, name)
    if reserved is not None and requested + sum(c.requested for c in others) > reserved:
        raise InvalidParameterValueException(
            "Requested Provisioned Concurrency should not be greater than the "
            "reservedConcurrentExecution for function"
        )


def _qualifier_problems(problems: Problems, qualifier: str | None) -> None:
    problems.required(qualifier, "qualifier")
    problems.max_length(qualifier, "qualifier", 128)
    problems.pattern(qualifier, "qualifier", QUALIFIER_PATTERN)


async def _existing_function(context: ApiContext, function_name: str) -> str:
    name = function_ref(function_name).name
    if await context.stores.functions.get(name) is None:
        raise function_missing(context, name)
    return name


async def _write_settings(context: ApiContext, function_name: str, change: SettingsChange) -> None:
    name = function_ref(function_name).name
    try:
        await context.stores.function_settings.write(name, change)
    except RecordMissing:
        raise function_missing(context, name) from None


def render_provisioned(config: ProvisionedConcurrencyConfig) -> dict[str, Any]:
    body: dict[str, Any] = {
        "RequestedProvisionedConcurrentExecutions": config.requested,
        "AvailableProvisionedConcurrentExecutions": config.available,
        "AllocatedProvisionedConcurrentExecutions": config.allocated,
        "Status": str(config.status),
        "LastModified": config.last_modified,
    }
    if config.status_reason:
        body["StatusReason"] = config.status_reason
    return body
