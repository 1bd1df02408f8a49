"""Which function version a request names: a name, partial ARN or ARN with an optional
`:qualifier`, the Qualifier parameter, and aliases resolved to their version (by weight, for
Invoke); and the function ARNs AWS answers with.

https://docs.aws.amazon.com/lambda/latest/dg/configuration-aliases.html
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from quart import request

from bus.aliases import is_version, pick_version
from bus.records import LATEST, FunctionVersion
from bus.settings import Settings
from services.context import ApiContext, api
from services.errors import (
    AccessDeniedException,
    InvalidParameterValueException,
    ResourceNotFoundException,
)
from services.requests import Problems

# AWS's current NamespacedFunctionName pattern (API reference; it accepts `eusc-` regions).
FUNCTION_NAME_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)
_FUNCTION_NAME = re.compile(
    r"^(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?"
    r"(?:(?P<region>(?:eusc-)?[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):)?"
    r"(?:(?P<account>\d{12}):)?(?P<function>function:)?(?P<name>[a-zA-Z0-9-_\.]+)"
    r"(?::(?P<qualifier>\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9-_]+))?$"
)
# botocore's Qualifier shape.
QUALIFIER_PATTERN = r"(|[a-zA-Z0-9$_-]+)"
MAX_QUALIFIER_LENGTH = 128
MAX_NAME_LENGTH = 64
MAX_ARN_LENGTH = 256


@dataclass(frozen=True, slots=True)
class FunctionRef:
    name: str
    qualifier: str | None


def parse_function_name(value: str, member: str = "functionName") -> FunctionRef:
    """A name, partial ARN or ARN, with an optional `:qualifier`, as Lambda accepts them."""
    problems = Problems()
    ref = _parse(value, member, problems)
    problems.raise_any()
    assert ref is not None  # no problems: it parsed
    return ref


def _parse(value: str, member: str, problems: Problems) -> FunctionRef | None:
    """The reference `value` names, or None with its violations added to `problems`; an ARN
    of another region or account is refused as AWS refuses it."""
    match = _FUNCTION_NAME.match(value)
    if match is not None:
        _check_home(match["region"], match["account"], value)
    if len(value) > MAX_ARN_LENGTH:
        problems.max_length(value, member, MAX_ARN_LENGTH)
    elif match is None or "." in match["name"]:
        problems.add(
            value,
            member,
            f"Member must satisfy regular expression pattern: {FUNCTION_NAME_PATTERN}",
        )
    elif len(match["name"]) > MAX_NAME_LENGTH:
        problems.max_length(value, member, MAX_NAME_LENGTH)
    else:
        return FunctionRef(match["name"], match["qualifier"])
    return None


def _check_home(region: str | None, account: str | None, value: str) -> None:
    """AWS answers an ARN of another region 404 and one of another account 403."""
    settings = api().settings
    if region is not None and region != settings.region:
        raise ResourceNotFoundException(
            f"Functions from '{region}' are not reachable in this region ('{settings.region}')"
        )
    if account is not None and account != settings.account_id:
        raise AccessDeniedException(
            f"User: arn:aws:iam::{settings.account_id}:root is not authorized to perform this "
            f"action on resource: {value}"
        )


def function_arn(settings: Settings, name: str) -> str:
    return f"arn:aws:lambda:{settings.region}:{settings.account_id}:function:{name}"


@dataclass(frozen=True, slots=True)
class Resolved:
    """A function version found for a request, and how the request named it."""

    record: FunctionVersion
    arn: str  # unqualified, or qualified with the version or alias the request gave


def function_ref(function_name: str) -> FunctionRef:
    """The path's function name with the Qualifier parameter, which must agree with it."""
    problems = Problems()
    qualifier = request.args.get("Qualifier")
    ref = _parse(function_name, "functionName", problems)
    if qualifier is not None:
        problems.max_length(qualifier, "qualifier", MAX_QUALIFIER_LENGTH)
        problems.pattern(qualifier, "qualifier", QUALIFIER_PATTERN)
    problems.raise_any()
    assert ref is not None  # no problems: it parsed
    if qualifier is not None and ref.qualifier is not None and qualifier != ref.qualifier:
        raise InvalidParameterValueException(
            "The derived qualifier from the function name does not match the specified qualifier."
        )
    return FunctionRef(ref.name, qualifier or ref.qualifier)


async def resolve(context: ApiContext, ref: FunctionRef, *, routed: bool = False) -> Resolved:
    """The version `ref` names. An alias gives its primary version, or with `routed` the
    version its routing configuration picks for one invocation; `routed` reads (Invoke's)
    go through the API's record cache."""
    version = ref.qualifier or LATEST
    records = context.records
    if not is_version(version):
        aliases = records.alias if routed else context.stores.aliases.get
        alias = await aliases(ref.name, version)
        if alias is None:
            raise not_found(context, ref)
        version = pick_version(alias) if routed else alias.function_version
    functions = records.function if routed else context.stores.functions.get
    record = await functions(ref.name, version)
    if record is None:
        raise not_found(context, ref)
    return Resolved(record, qualified_arn(context, ref))


def qualified_arn(context: ApiContext, ref: FunctionRef) -> str:
    arn = function_arn(context.settings, ref.name)
    return f"{arn}:{ref.qualifier}" if ref.qualifier else arn


def not_found(context: ApiContext, ref: FunctionRef) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Function not found: {qualified_arn(context, ref)}")


def function_missing(context: ApiContext, name: str) -> ResourceNotFoundException:
    return not_found(context, FunctionRef(name, None))
