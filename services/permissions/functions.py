"""Function resource policies: AddPermission, GetPolicy and RemovePermission, one policy per
function version or alias. https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html

Each change gives the version or alias a new RevisionId, as on AWS; GetPolicy answers with it.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import msgspec
from quart import Blueprint, Response, request

from bus.aliases import is_version
from bus.records import LATEST, Alias, FunctionVersion, ResourcePolicy
from services.context import ApiContext, api
from services.errors import (
    InvalidParameterValueException,
    PreconditionFailedException,
    ResourceConflictException,
    ResourceNotFoundException,
)
from services.functions.refs import (
    MAX_QUALIFIER_LENGTH,
    QUALIFIER_PATTERN,
    FunctionRef,
    function_arn,
    function_ref,
    qualified_arn,
)
from services.requests import Problems, RequestShape, decode_body, read_body
from services.responses import json_response

blueprint = Blueprint("policies", __name__)

POLICY = "/2015-03-31/functions/<function_name>/policy"
# botocore's shapes (service-2.json).
STATEMENT_ID_PATTERN = r"([a-zA-Z0-9-_]+)"
NAMESPACED_STATEMENT_ID_PATTERN = r"([a-zA-Z0-9-_.]+)"
MAX_STATEMENT_ID = 100
ACTION_PATTERN = r"(lambda:[*]|lambda:[a-zA-Z]+|[*])"
PRINCIPAL_PATTERN = r"[^\s]+"
SOURCE_ARN_PATTERN = (
    r"arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:([a-z]{2}(-gov)?-[a-z]+-\d{1})?:(\d{12})?:(.*)"
)
SOURCE_ACCOUNT_PATTERN = r"\d{12}"
EVENT_SOURCE_TOKEN_PATTERN = r"[a-zA-Z0-9._\-]+"
ORG_ID_PATTERN = r"o-[a-z0-9]{10,32}"
AUTH_TYPES = ("NONE", "AWS_IAM")
# The qualifier rule AWS reports for the policy operations.

# The maximum size of a function's policy document, in bytes.
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
MAX_POLICY_BYTES = 20_480
POLICY_HEAD = {"Version": "2012-10-17", "Id": "default"}
REVISION_MISMATCH = (
    "The Revision Id provided does not match the latest Revision Id. "
    "Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
)
NO_POLICY = "No policy is associated with the given resource."


class PolicyLengthExceededException(InvalidParameterValueException):
    """The policy would outgrow AWS's limit on its size."""


class PermissionInput(RequestShape):
    statement_id: str | None = None
    action: str | None = None
    principal: str | None = None
    source_arn: str | None = None
    source_account: str | None = None
    event_source_token: str | None = None
    revision_id: str | None = None
    principal_org_id: str | None = msgspec.field(default=None, name="PrincipalOrgID")
    function_url_auth_type: str | None = None
    invoked_via_function_url: bool | None = None


@blueprint.post(POLICY)
async def add_permission(function_name: str) -> Response:
    context = api()
    body = decode_body(await read_body(), PermissionInput)
    ref = policy_ref(function_name)
    _check_permission(body)
    if ref.qualifier == LATEST:
        raise InvalidParameterValueException(
            "We currently do not support adding policies for $LATEST."
        )
    target = await _target(context, ref, missing=_function_not_found(context, ref.name))
    _check_revision(body.revision_id, target)
    statement = _statement(body, qualified_arn(context, ref))

    def change(policy: ResourcePolicy | None) -> ResourcePolicy:
        policy = policy or ResourcePolicy()
        sid = statement["Sid"]
        if policy.statement(sid) is not None:
            raise ResourceConflictException(
                f"The statement id ({sid}) provided already exists. Please provide a new "
                "statement id, or remove the existing statement."
            )
        changed = ResourcePolicy(statements=[*policy.statements, statement])
        if len(document(changed).encode()) > MAX_POLICY_BYTES:
            raise PolicyLengthExceededException("The final policy size is bigger than the limit.")
        return changed

    await context.stores.policies.change_function(ref.name, _qualifier(ref), change)
    await bump_revision(context, ref.name, target)
    return json_response({"Statement": compact(statement)}, 201)


@blueprint.get(POLICY)
async def get_policy(function_name: str) -> Response:
    context = api()
    ref = policy_ref(function_name)
    if await context.stores.functions.get(ref.name) is None:
        raise _function_not_found(context, ref.name)
    policy = await context.stores.policies.function(ref.name, _qualifier(ref))
    if policy is None:
        raise ResourceNotFoundException("The resource you requested does not exist.")
    # A policy outlives no version or alias (their delete takes it along).
    target = await _target(context, ref, missing=_function_not_found(context, ref.name))
    return json_response({"Policy": document(policy), "RevisionId": target.revision_id})


@blueprint.delete(POLICY + "/<statement_id>")
async def remove_permission(function_name: str, statement_id: str) -> Response:
    context = api()
    ref = policy_ref(function_name)
    problems = Problems()
    problems.max_length(statement_id, "statementId", MAX_STATEMENT_ID)
    problems.pattern(statement_id, "statementId", NAMESPACED_STATEMENT_ID_PATTERN)
    problems.raise_any()
    missing = ResourceNotFoundException(
        f"No policy found for: {function_arn(context.settings, ref.name)}"
    )
    target = await _target(context, ref, missing=missing)

    def change(policy: ResourcePolicy | None) -> ResourcePolicy:
        if policy is None:
            raise ResourceNotFoundException(NO_POLICY)
        if policy.statement(statement_id) is None:
            raise ResourceNotFoundException(
                f"Statement {statement_id} is not found in resource policy."
            )
        _check_revision(request.args.get("RevisionId"), target)
        kept = [s for s in policy.statements if s.get("Sid") != statement_id]
        return ResourcePolicy(statements=kept)

    await context.stores.policies.change_function(ref.name, _qualifier(ref), change)
    await bump_revision(context, ref.name, target)
    return Response(b"", status=204)


def policy_ref(function_name: str) -> FunctionRef:
    """The function and qualifier of a policy request, the qualifier checked as AWS does."""
    ref = function_ref(function_name)
    if ref.qualifier is not None:  # also one given in the function name, not only ?Qualifier
        problems = Problems()
        problems.max_length(ref.qualifier, "qualifier", MAX_QUALIFIER_LENGTH)
        problems.pattern(ref.qualifier, "qualifier", QUALIFIER_PATTERN)
        problems.raise_any()
    return ref


def document(policy: ResourcePolicy) -> str:
    """The policy document as GetPolicy returns it: a JSON string."""
    return compact({**POLICY_HEAD, "Statement": policy.statements})


def compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def _qualifier(ref: FunctionRef) -> str:
    return ref.qualifier or LATEST


async def _target(
    context: ApiContext, ref: FunctionRef, *, missing: ResourceNotFoundException
) -> FunctionVersion | Alias:
    """The version or alias whose policy the request names; `missing` if the function is not
    there, AWS's errors for an unknown version or alias."""
    if await context.stores.functions.get(ref.name) is None:
        raise missing
    qualifier = _qualifier(ref)
    arn = f"{function_arn(context.settings, ref.name)}:{qualifier}"
    if is_version(qualifier):
        record = await context.stores.functions.get(ref.name, qualifier)
        if record is None:
            raise ResourceNotFoundException(f"Function not found: {arn}")
        return record
    alias = await context.stores.aliases.get(ref.name, qualifier)
    if alias is None:
        raise ResourceNotFoundException(f"Cannot find alias arn: {arn}")
    return alias


def _function_not_found(context: ApiContext, name: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Function not found: {function_arn(context.settings, name)}")


def _check_revision(revision_id: str | None, target: FunctionVersion | Alias) -> None:
    if revision_id and revision_id != target.revision_id:
        raise PreconditionFailedException(REVISION_MISMATCH)


async def bump_revision(context: ApiContext, name: str, target: FunctionVersion | Alias) -> None:
    """A new RevisionId for the version or alias whose policy changed, as AWS gives it."""
    revision = str(uuid.uuid4())
    if isinstance(target, Alias):

        def renewed(alias: Alias | None, _: set[str]) -> Alias:
            if alias is None:  # deleted meanwhile, and its policy with it
                raise ResourceNotFoundException(f"Alias not found: {target.name}")
            return msgspec.structs.replace(alias, revision_id=revision)

        await context.stores.aliases.write(name, target.name, renewed)
        return
    await context.stores.functions.update(
        name, lambda r: msgspec.structs.replace(r, revision_id=revision), target.version
    )


def _check_permission(body: PermissionInput) -> None:
    """botocore's model constraints on AddPermission's members, reported together."""
    problems = Problems()
    check_statement(problems, body.statement_id, body.action, body.principal)
    problems.pattern(body.action, "action", ACTION_PATTERN)
    problems.pattern(body.principal, "principal", PRINCIPAL_PATTERN)
    problems.pattern(body.source_arn, "sourceArn", SOURCE_ARN_PATTERN)
    problems.max_length(body.source_account, "sourceAccount", 12)
    problems.pattern(body.source_account, "sourceAccount", SOURCE_ACCOUNT_PATTERN)
    problems.max_length(body.event_source_token, "eventSourceToken", 256)
    problems.pattern(body.event_source_token, "eventSourceToken", EVENT_SOURCE_TOKEN_PATTERN)
    problems.max_length(body.principal_org_id, "principalOrgID", 34)
    problems.pattern(body.principal_org_id, "principalOrgID", ORG_ID_PATTERN)
    if body.function_url_auth_type not in (None, *AUTH_TYPES):
        problems.add(
            body.function_url_auth_type,
            "functionUrlAuthType",
            "Member must satisfy enum value set: [NONE, AWS_IAM]",
        )
    problems.raise_any()


def check_statement(
    problems: Problems, sid: str | None, action: str | None, principal: str | None
) -> None:
    """The members every permission request needs, and the model's StatementId rules."""
    problems.required(sid, "statementId")
    problems.required(action, "action")
    problems.required(principal, "principal")
    problems.max_length(sid, "statementId", MAX_STATEMENT_ID)
    problems.pattern(sid, "statementId", STATEMENT_ID_PATTERN)


def _statement(body: PermissionInput, resource: str) -> dict[str, Any]:
    """The policy statement AddPermission adds, in AWS's member order."""
    assert body.statement_id and body.action and body.principal
    statement: dict[str, Any] = {
        "Sid": body.statement_id,
        "Effect": "Allow",
        "Principal": _principal(body.principal),
        "Action": body.action,
        "Resource": resource,
    }
    condition = _condition(body)
    if condition:
        statement["Condition"] = condition
    return statement


def _principal(principal: str) -> object:
    """A service, an account (as its root ARN), an IAM ARN, or anyone."""
    if principal == "*":
        return "*"
    if re.fullmatch(r"\d{12}", principal):
        return {"AWS": f"arn:aws:iam::{principal}:root"}
    if re.match(r"arn:aws[a-zA-Z-]*:iam:", principal):
        return {"AWS": principal}
    if re.fullmatch(r"[a-z0-9.-]+\.amazonaws\.com(\.cn)?", principal):
        return {"Service": principal}
    raise InvalidParameterValueException(
        "The provided principal was invalid. Please check the principal and try again."
    )


def _condition(body: PermissionInput) -> dict[str, dict[str, str]]:
    equals = {
        key: value
        for key, value in (
            ("AWS:SourceAccount", body.source_account),
            ("aws:PrincipalOrgID", body.principal_org_id),
            ("lambda:EventSourceToken", body.event_source_token),
            ("lambda:FunctionUrlAuthType", body.function_url_auth_type),
        )
        if value
    }
    condition: dict[str, dict[str, str]] = {}
    if equals:
        condition["StringEquals"] = equals
    if body.source_arn:
        condition["ArnLike"] = {"AWS:SourceArn": body.source_arn}
    if body.invoked_via_function_url:
        condition["Bool"] = {"lambda:InvokedViaFunctionUrl": "true"}
    return condition
