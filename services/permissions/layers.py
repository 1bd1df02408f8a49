"""Layer version permissions: AddLayerVersionPermission, GetLayerVersionPolicy and
RemoveLayerVersionPermission, one policy per layer version with its own RevisionId.
https://docs.aws.amazon.com/lambda/latest/dg/permissions-layer-cross-account.html
"""

from __future__ import annotations

import uuid
from typing import Any

from quart import Blueprint, Response, request

from bus.records import ResourcePolicy
from services.context import ApiContext, api
from services.errors import (
    InvalidParameterValueException,
    PreconditionFailedException,
    ResourceConflictException,
    ResourceNotFoundException,
)
from services.layers import LAYER_NAME_PATTERN, MAX_NAME_LENGTH, layer_arn
from services.permissions.functions import (
    MAX_STATEMENT_ID,
    NO_POLICY,
    STATEMENT_ID_PATTERN,
    check_statement,
    compact,
    document,
)
from services.requests import Problems, RequestShape, decode_body, read_body
from services.responses import json_response

blueprint = Blueprint("layer_policies", __name__)

POLICY = "/2018-10-31/layers/<layer_name>/versions/<version>/policy"
# botocore's LayerPermissionAllowedAction, LayerPermissionAllowedPrincipal, OrganizationId.
ACTION = "lambda:GetLayerVersion"
PRINCIPAL_PATTERN = r"\d{12}|\*|arn:(aws[a-zA-Z-]*):iam::\d{12}:root"
ORGANIZATION_PATTERN = r"o-[a-z0-9]{10,32}"
REVISION_MISMATCH = (
    "The Revision Id provided does not match the latest Revision Id. "
    "Call the GetLayerPolicy API to retrieve the latest Revision Id"
)


class LayerPermissionInput(RequestShape):
    statement_id: str | None = None
    action: str | None = None
    principal: str | None = None
    organization_id: str | None = None


@blueprint.post(POLICY)
async def add_layer_version_permission(layer_name: str, version: str) -> Response:
    context = api()
    body = decode_body(await read_body(), LayerPermissionInput)
    _check_permission(body)
    name, number = _layer_version(layer_name, version)
    arn = await _existing(context, name, number)
    statement = _statement(body, arn)
    revision = request.args.get("RevisionId")

    def change(policy: ResourcePolicy | None) -> ResourcePolicy:
        policy = policy or ResourcePolicy()
        if policy.statement(statement["Sid"]) is not None:
            raise ResourceConflictException(
                f"The statement id ({statement['Sid']}) provided already exists. Please provide "
                "a new statement id, or remove the existing statement."
            )
        _check_revision(revision, policy)
        statements = [*policy.statements, statement]
        return ResourcePolicy(statements=statements, revision_id=str(uuid.uuid4()))

    policy = await context.stores.policies.change_layer(name, number, change)
    body_out = {"Statement": compact(statement), "RevisionId": policy.revision_id}
    return json_response(body_out, 201)


@blueprint.get(POLICY)
async def get_layer_version_policy(layer_name: str, version: str) -> Response:
    context = api()
    name, number = _layer_version(layer_name, version)
    await _existing(context, name, number)
    policy = await context.stores.policies.layer(name, number)
    if policy is None:
        raise ResourceNotFoundException(NO_POLICY)
    return json_response({"Policy": document(policy), "RevisionId": policy.revision_id})


@blueprint.delete(POLICY + "/<statement_id>")
async def remove_layer_version_permission(
    layer_name: str, version: str, statement_id: str
) -> Response:
    context = api()
    problems = Problems()
    problems.max_length(statement_id, "statementId", MAX_STATEMENT_ID)
    problems.pattern(statement_id, "statementId", STATEMENT_ID_PATTERN)
    problems.raise_any()
    name, number = _layer_version(layer_name, version)
    await _existing(context, name, number)
    revision = request.args.get("RevisionId")

    def change(policy: ResourcePolicy | None) -> ResourcePolicy:
        if policy is None:
            raise ResourceNotFoundException(NO_POLICY)
        _check_revision(revision, policy)
        if policy.statement(statement_id) is None:
            raise ResourceNotFoundException(
                f"Statement {statement_id} is not found in resource policy."
            )
        kept = [s for s in policy.statements if s.get("Sid") != statement_id]
        return ResourcePolicy(statements=kept, revision_id=str(uuid.uuid4()))

    await context.stores.policies.change_layer(name, number, change)
    return Response(b"", status=204)


def _layer_version(layer_name: str, version: str) -> tuple[str, int]:
    """The layer name (from a name or ARN) and version number of the path, checked as AWS does."""
    problems = Problems()
    problems.max_length(layer_name, "layerName", MAX_NAME_LENGTH)
    problems.pattern(layer_name, "layerName", LAYER_NAME_PATTERN)
    problems.raise_any()
    try:
        number = int(version)
    except ValueError:
        raise InvalidParameterValueException(f"Invalid version number: {version}") from None
    if number < 1:
        raise InvalidParameterValueException("Layer Version Cannot be less than 1")
    return layer_name.rpartition(":")[2], number


async def _existing(context: ApiContext, name: str, number: int) -> str:
    """The layer version's ARN; AWS's error if there is no such version."""
    arn = f"{layer_arn(context.settings, name)}:{number}"
    if await context.stores.layers.get(name, number) is None:
        raise ResourceNotFoundException(f"Layer version {arn} does not exist.")
    return arn


def _check_revision(revision: str | None, policy: ResourcePolicy) -> None:
    if revision and revision != policy.revision_id:
        raise PreconditionFailedException(REVISION_MISMATCH)


def _check_permission(body: LayerPermissionInput) -> None:
    problems = Problems()
    check_statement(problems, body.statement_id, body.action, body.principal)
    problems.max_length(body.action, "action", len(ACTION))
    problems.pattern(body.action, "action", ACTION)
    problems.pattern(body.principal, "principal", PRINCIPAL_PATTERN)
    problems.max_length(body.organization_id, "organizationId", 34)
    problems.pattern(body.organization_id, "organizationId", ORGANIZATION_PATTERN)
    problems.raise_any()


def _statement(body: LayerPermissionInput, arn: str) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": body.statement_id,
        "Effect": "Allow",
        "Principal": "*" if body.principal == "*" else {"AWS": _account_arn(body.principal)},
        "Action": ACTION,
        "Resource": arn,
    }
    if body.organization_id:
        statement["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": body.organization_id}}
    return statement


def _account_arn(principal: str | None) -> str:
    """An account as AWS writes it in a layer policy: its root user's ARN."""
    assert principal is not None
    return principal if principal.startswith("arn:") else f"arn:aws:iam::{principal}:root"
