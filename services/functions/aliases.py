"""Aliases: CreateAlias, GetAlias, ListAliases, UpdateAlias and DeleteAlias, with weighted
routing to a second version. https://docs.aws.amazon.com/lambda/latest/dg/configuration-aliases.html

Invoke resolves aliases (services/functions/refs.py); versions are never changed by them.
"""

from __future__ import annotations

import uuid

import msgspec
from quart import Blueprint, Response, request

from bus.records import LATEST, Alias
from bus.stores.aliases import AliasChange
from services.context import ApiContext, api
from services.errors import (
    InvalidParameterValueException,
    PreconditionFailedException,
    ResourceConflictException,
    ResourceNotFoundException,
)
from services.functions.refs import (
    FunctionRef,
    function_missing,
    function_ref,
    not_found,
    qualified_arn,
)
from services.functions.versions import REVISION_MISMATCH
from services.requests import Problems, RequestShape, decode_body, list_page, read_body
from services.responses import json_response

blueprint = Blueprint("aliases", __name__)

ALIASES = "/2015-03-31/functions/<function_name>/aliases"
ALIAS = ALIASES + "/<alias_name>"
# botocore's Alias and VersionWithLatestPublished patterns.
ALIAS_PATTERN = r"(?!^[0-9]+$)([a-zA-Z0-9-_]+)"
VERSION_PATTERN = r"(\$LATEST(\.PUBLISHED)?|[0-9]+)"
WEIGHTS = "routingConfig.additionalVersionWeights"
WEIGHT_RULE = (
    "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, "
    "Member must have value greater than or equal to 0.0, Member must not be null]"
)
WEIGHT_KEY_RULE = (
    "Map keys must satisfy constraint: [Member must have length less than or equal to 1024, "
    "Member must have length greater than or equal to 1, Member must satisfy regular "
    "expression pattern: [0-9]+, Member must not be null]"
)


class RoutingInput(RequestShape):
    additional_version_weights: dict[str, float] | None = None


class AliasInput(RequestShape):
    """CreateAlias's and UpdateAlias's body (Name only in CreateAlias's)."""

    name: str | None = None
    function_version: str | None = None
    description: str | None = None
    routing_config: RoutingInput | None = None
    revision_id: str | None = None

    @property
    def weights(self) -> dict[str, float] | None:
        """The new AdditionalVersionWeights; {} clears them; None leaves them as they are."""
        if self.routing_config is None:
            return None
        return self.routing_config.additional_version_weights or {}


@blueprint.post(ALIASES)
async def create_alias(function_name: str) -> Response:
    context = api()
    body = decode_body(await read_body(), AliasInput)
    problems = Problems()
    problems.required(body.name, "name")
    problems.required(body.function_version, "functionVersion")
    _check_body(body, problems)
    problems.raise_any()
    assert body.name is not None and body.function_version is not None
    name = function_ref(function_name).name
    alias = Alias(
        name=body.name,
        function_name=name,
        function_version=body.function_version,
        description=body.description or "",
        additional_weights=body.weights or {},
        revision_id=str(uuid.uuid4()),
    )

    def change(current: Alias | None, versions: set[str]) -> Alias:
        _check_target(context, alias, versions)
        if current is not None:
            arn = _arn(context, name, alias.name)
            raise ResourceConflictException(f"Alias already exists: {arn}")
        return alias

    await context.stores.aliases.write(name, alias.name, change)
    return json_response(render_alias(context, alias), 201)


@blueprint.get(ALIAS)
async def get_alias(function_name: str, alias_name: str) -> Response:
    context = api()
    name = await _existing_function(context, function_name, alias_name)
    alias = await context.stores.aliases.get(name, alias_name)
    if alias is None:
        arn = _arn(context, name, alias_name)
        raise ResourceNotFoundException(f"Cannot find alias arn: {arn}")
    return json_response(render_alias(context, alias))


@blueprint.get(ALIASES)
async def list_aliases(function_name: str) -> Response:
    context = api()
    name = await _existing_function(context, function_name)
    version = request.args.get("FunctionVersion")
    problems = Problems()
    problems.pattern(version, "functionVersion", VERSION_PATTERN)
    problems.raise_any()
    page = list_page()
    aliases = await context.stores.aliases.all(name)
    marker = page.marker
    matching = [
        a
        for a in aliases
        if (version is None or a.function_version == version) and (not marker or a.name > marker)
    ]
    return page.respond("Aliases", matching, lambda a: render_alias(context, a), lambda a: a.name)


@blueprint.put(ALIAS)
async def update_alias(function_name: str, alias_name: str) -> Response:
    context = api()
    body = decode_body(await read_body(), AliasInput)
    problems = Problems()
    _check_body(body, problems)
    problems.raise_any()
    name = await _existing_function(context, function_name, alias_name)
    change = _updated(context, body, name, alias_name)
    updated = await context.stores.aliases.write(name, alias_name, change)
    return json_response(render_alias(context, updated))


@blueprint.delete(ALIAS)
async def delete_alias(function_name: str, alias_name: str) -> Response:
    context = api()
    name = await _existing_function(context, function_name, alias_name)
    await context.stores.aliases.delete(name, alias_name)
    return Response(b"", status=204)


def render_alias(context: ApiContext, alias: Alias) -> dict[str, object]:
    """An AliasConfiguration."""
    body: dict[str, object] = {
        "AliasArn": _arn(context, alias.function_name, alias.name),
        "Name": alias.name,
        "FunctionVersion": alias.function_version,
        "Description": alias.description,
    }
    if alias.additional_weights:
        body["RoutingConfig"] = {"AdditionalVersionWeights": alias.additional_weights}
    body["RevisionId"] = alias.revision_id
    return body


def _updated(
    context: ApiContext, body: AliasInput, function_name: str, alias_name: str
) -> AliasChange:
    """UpdateAlias's change to the stored alias, refused as AWS refuses it."""

    def change(current: Alias | None, versions: set[str]) -> Alias:
        if current is None:
            arn = _arn(context, function_name, alias_name)
            raise ResourceNotFoundException(f"Alias not found: {arn}")
        if body.revision_id is not None and body.revision_id != current.revision_id:
            raise PreconditionFailedException(REVISION_MISMATCH)
        weights = body.weights
        alias = msgspec.structs.replace(
            current,
            function_version=body.function_version or current.function_version,
            description=current.description if body.description is None else body.description,
            additional_weights=current.additional_weights if weights is None else weights,
            revision_id=str(uuid.uuid4()),
        )
        _check_target(context, alias, versions)
        return alias

    return change


def _check_body(body: AliasInput, problems: Problems) -> None:
    """The model's constraints on an alias request."""
    problems.max_length(body.name, "name", 128)
    problems.pattern(body.name, "name", ALIAS_PATTERN)
    problems.max_length(body.function_version, "functionVersion", 1024)
    problems.pattern(body.function_version, "functionVersion", VERSION_PATTERN)
    problems.max_length(body.description, "description", 256)
    weights = body.weights or {}
    shown = "{" + ", ".join(f"{k}={v}" for k, v in weights.items()) + "}"
    if any(not 0.0 <= w <= 1.0 for w in weights.values()):
        problems.add(shown, WEIGHTS, WEIGHT_RULE)
    if any(not k.isdigit() or len(k) > 1024 for k in weights):
        problems.add(shown, WEIGHTS, WEIGHT_KEY_RULE)


def _check_target(context: ApiContext, alias: Alias, versions: set[str]) -> None:
    """Lambda's own checks of the versions an alias routes to."""
    if not versions:
        raise function_missing(context, alias.function_name)
    primary = alias.function_version
    if primary not in versions:
        raise _version_missing(context, alias, primary)
    weights = alias.additional_weights
    if len(weights) > 1:
        raise InvalidParameterValueException(
            "Number of items in AdditionalVersionWeights cannot be greater than 1"
        )
    for version in weights:
        if version == primary:
            raise InvalidParameterValueException(
                f"Invalid function version {primary}. Function version {primary} is already "
                "included in routing configuration."
            )
        if primary == LATEST:
            raise InvalidParameterValueException(
                "$LATEST is not supported for an alias pointing to more than 1 version"
            )
        if version not in versions:
            raise _version_missing(context, alias, version)


def _version_missing(context: ApiContext, alias: Alias, version: str) -> ResourceNotFoundException:
    return not_found(context, FunctionRef(alias.function_name, version))


async def _existing_function(
    context: ApiContext, function_name: str, alias_name: str | None = None
) -> str:
    """The function's name, once it is known to exist (and the alias name to be valid)."""
    if alias_name is not None:
        problems = Problems()
        problems.max_length(alias_name, "name", 128)
        problems.pattern(alias_name, "name", ALIAS_PATTERN)
        problems.raise_any()
    name = function_ref(function_name).name
    if await context.stores.functions.get(name) is None:
        raise function_missing(context, name)
    return name


def _arn(context: ApiContext, function_name: str, alias_name: str) -> str:
    return qualified_arn(context, FunctionRef(function_name, alias_name))
