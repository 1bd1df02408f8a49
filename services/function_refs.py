"""Which function version a request names: a name or ARN with an optional `:qualifier`, the
Qualifier parameter, and aliases, resolved to their version (by weight, for Invoke).

https://docs.aws.amazon.com/lambda/latest/dg/configuration-aliases.html
"""

from __future__ import annotations

from dataclasses import dataclass

from quart import request

from bus.aliases import is_version, pick_version
from bus.records import LATEST, Alias, FunctionVersion
from services.arns import FunctionRef, function_arn, parse_function_name
from services.context import ApiContext
from services.errors import InvalidParameterValueException, ResourceNotFoundException


@dataclass(frozen=True, slots=True)
class Resolved:
    """A function version found for a request, and how the request named it."""

    record: FunctionVersion
    arn: str  # unqualified, or qualified with the version or alias the request gave
    alias: Alias | None = None


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
    alias = None
    if not is_version(version):
        alias = await context.stores.aliases.get(ref.name, version)
        if alias is None:
            raise not_found(context, ref)
        version = pick_version(alias) if routed else alias.function_version
    record = await context.stores.functions.get(ref.name, version)
    if record is None:
        raise not_found(context, ref)
    return Resolved(record, qualified_arn(context, ref), alias)


def qualified_arn(context: ApiContext, ref: FunctionRef) -> str:
    arn = function_arn(context.settings, ref.name)
    return f"{arn}:{ref.qualifier}" if ref.qualifier else arn


def not_found(context: ApiContext, ref: FunctionRef) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Function not found: {qualified_arn(context, ref)}")


def function_missing(context: ApiContext, name: str) -> ResourceNotFoundException:
    return not_found(context, FunctionRef(name, None))
