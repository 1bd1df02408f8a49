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
from services.context import ApiContext
from services.errors import InvalidParameterValueException, ResourceNotFoundException, constraint

# botocore's NamespacedFunctionName pattern, anchored.
FUNCTION_NAME_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)
_FUNCTION_NAME = re.compile(
    r"^(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?(?P<region>[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d:)?"
    r"(?P<account>\d{12}:)?(?P<function>function:)?(?P<name>[a-zA-Z0-9-_\.]+)"
    r"(?::(?P<qualifier>\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9-_]+))?$"
)
MAX_NAME_LENGTH = 64
MAX_ARN_LENGTH = 256


@dataclass(frozen=True, slots=True)
class FunctionRef:
    name: str
    qualifier: str | None


def parse_function_name(value: str, member: str = "functionName") -> FunctionRef:
    """A name, partial ARN or ARN, with an optional `:qualifier`, as Lambda accepts them."""
    match = _FUNCTION_NAME.match(value)
    if len(value) > MAX_ARN_LENGTH:
        raise constraint(
            value, member, f"Member must have length less than or equal to {MAX_ARN_LENGTH}"
        )
    if match is None or "." in match["name"]:
        raise constraint(
            value,
            member,
            f"Member must satisfy regular expression pattern: {FUNCTION_NAME_PATTERN}",
        )
    if len(match["name"]) > MAX_NAME_LENGTH:
        raise constraint(
            value, member, f"Member must have length less than or equal to {MAX_NAME_LENGTH}"
        )
    return FunctionRef(match["name"], match["qualifier"])


def function_arn(settings: Settings, name: str) -> str:
    return f"arn:aws:lambda:{settings.region}:{settings.account_id}:function:{name}"


@dataclass(frozen=True, slots=True)
class Resolved:
    """A function version found for a request, and how the request named it."""

    record: FunctionVersion
    arn: str  # unqualified, or qualified with the version or alias the request gave


def function_ref(function_name: str) -> FunctionRef:
    """The path's function name with the Qualifier parameter, which must agree with it."""
    ref = parse_function_name(function_name)
    qualifier = request.args.get("Qualifier")
    if qualifier is not None and ref.qualifier is not None and qualifier != ref.qualifier:
        raise InvalidParameterValueException(
            "The derived qualifier from the function name does not match the specified qualifier."
        )
    return FunctionRef(ref.name, qualifier or ref.qualifier)


async def resolve(context: ApiContext, ref: FunctionRef, *, routed: bool = False) -> Resolved:
    """The version `ref` names. An alias gives its primary version, or with `routed` the
    version its routing configuration picks for one invocation."""
    version = ref.qualifier or LATEST
    if not is_version(version):
        alias = await context.stores.aliases.get(ref.name, version)
        if alias is None:
            raise not_found(context, ref)
        version = pick_version(alias) if routed else alias.function_version
    record = await context.stores.functions.get(ref.name, version)
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
