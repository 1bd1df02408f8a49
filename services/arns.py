"""Function names and ARNs: parsing what clients send, building what AWS returns."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bus.settings import Settings
from services.errors import constraint

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
