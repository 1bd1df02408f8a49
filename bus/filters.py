"""Event filtering: the pattern language of Lambda's FilterCriteria (EventBridge's content
filtering), compiled once per mapping and matched against each record.

https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html

Pollers match the record as AWS filters it:

- SQS: `{"body": <the body parsed as JSON, or the raw string when it is not JSON>,
  "attributes": ..., "messageAttributes": ..., ...}`. A raw-string body is a leaf, so only
  leaf conditions on `body` can match it (`["text"]`, prefix, suffix, equals-ignore-case,
  anything-but, exists); a pattern with fields under `body` never matches it (AWS drops such
  a message for that pattern), except `{"exists": false}` conditions on those fields.
- DynamoDB Streams: the stream record, `{"eventName": ..., "dynamodb": {"NewImage": ...}}`,
  with attribute values in DynamoDB's typed JSON (`{"S": "x"}`, `{"N": "1"}`).

Semantics, as EventBridge's event-ruler has them: a pattern matches when every field in it
matches (and one alternative of `$or`); a leaf list matches when any of its conditions matches
any value of the field (an array in the event counts as each of its elements); objects are
not leaf values; numbers compare as numbers and never equal strings or booleans.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

# A condition on one leaf value that is present in the event.
Test = Callable[[Any], bool]

NUMERIC_LOWER = (">", ">=")
NUMERIC_UPPER = ("<", "<=")
COMPARE: dict[str, Callable[[float, float], bool]] = {
    "=": lambda v, n: v == n,
    ">": lambda v, n: v > n,
    ">=": lambda v, n: v >= n,
    "<": lambda v, n: v < n,
    "<=": lambda v, n: v <= n,
}


class InvalidFilterPattern(ValueError):
    """A filter pattern that AWS would refuse; the message says what is wrong with it."""


@dataclass(frozen=True, slots=True)
class Condition:
    """One element of a leaf list: a test on present values, and whether absence matches."""

    test: Test
    when_absent: bool = False


@dataclass(frozen=True, slots=True)
class Leaf:
    conditions: tuple[Condition, ...]

    def matches(self, value: Any, present: bool) -> bool:
        values = list(_leaf_values(value)) if present else []
        if not values:
            return any(c.when_absent for c in self.conditions)
        return any(c.test(v) for c in self.conditions for v in values)


@dataclass(frozen=True, slots=True)
class Pattern:
    """An object in a pattern: its fields (leaf lists or nested patterns) and `$or`."""

    fields: tuple[tuple[str, Leaf | Pattern], ...]
    alternatives: tuple[Pattern, ...] = ()

    def matches(self, event: Any) -> bool:
        found = event if isinstance(event, dict) else {}
        for key, rule in self.fields:
            if not _field_matches(rule, found, key):
                return False
        return not self.alternatives or any(p.matches(found) for p in self.alternatives)


class EventFilter:
    """Compiled FilterCriteria: a record passes when any pattern matches it, or when there
    are no patterns at all."""

    def __init__(self, patterns: tuple[Pattern, ...]) -> None:
        self.patterns = patterns

    def matches(self, record: dict[str, Any]) -> bool:
        return not self.patterns or any(p.matches(record) for p in self.patterns)


def compile_filter(patterns: list[str]) -> EventFilter:
    """Compile FilterCriteria patterns (JSON strings); InvalidFilterPattern if one is not valid."""
    return EventFilter(tuple(_compile_text(text) for text in patterns))


def _compile_text(text: str) -> Pattern:
    try:
        parsed = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, TypeError) as exc:
        raise InvalidFilterPattern(f"The pattern is not valid JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise InvalidFilterPattern("A pattern must be a JSON object")
    return _compile_object(parsed, "")


def _reject_constant(name: str) -> None:
    raise InvalidFilterPattern(f"{name} is not a JSON value")


def _compile_object(spec: dict[str, Any], path: str) -> Pattern:
    fields: list[tuple[str, Leaf | Pattern]] = []
    alternatives: tuple[Pattern, ...] = ()
    for key, value in spec.items():
        where = f"{path}.{key}" if path else key
        if key == "$or":
            alternatives = _compile_or(value, path)
        elif isinstance(value, dict):
            fields.append((key, _compile_object(value, where)))
        elif isinstance(value, list):
            fields.append((key, Leaf(tuple(_compile_condition(c, where) for c in value))))
        else:
            raise InvalidFilterPattern(f"{where}: a match value must be a list or an object")
    return Pattern(tuple(fields), alternatives)


def _compile_or(value: Any, path: str) -> tuple[Pattern, ...]:
    if not isinstance(value, list) or not value:
        raise InvalidFilterPattern(f"{path or 'pattern'}: $or takes a list of patterns")
    if not all(isinstance(item, dict) for item in value):
        raise InvalidFilterPattern(f"{path or 'pattern'}: every $or alternative is an object")
    return tuple(_compile_object(item, path) for item in value)


def _compile_condition(spec: Any, where: str) -> Condition:
    if spec is None or isinstance(spec, str | bool) or _is_number(spec):
        return Condition(_equal_to(spec))
    if not isinstance(spec, dict) or len(spec) != 1:
        raise InvalidFilterPattern(f"{where}: each condition is a value or a one-key object")
    ((operator, operand),) = spec.items()
    compiler = _OPERATORS.get(operator)
    if compiler is None:
        raise InvalidFilterPattern(f"{where}: unknown operator {operator!r}")
    return compiler(operand, where)


# Operators


def _exists(operand: Any, where: str) -> Condition:
    if not isinstance(operand, bool):
        raise InvalidFilterPattern(f"{where}: exists takes true or false")
    return Condition(lambda _value: operand, when_absent=not operand)


def _prefix(operand: Any, where: str) -> Condition:
    return Condition(_text_test(operand, where, "prefix", str.startswith))


def _suffix(operand: Any, where: str) -> Condition:
    return Condition(_text_test(operand, where, "suffix", str.endswith))


def _equals_ignore_case(operand: Any, where: str) -> Condition:
    text = _string(operand, where, "equals-ignore-case").lower()
    return Condition(lambda value: isinstance(value, str) and value.lower() == text)


def _wildcard(operand: Any, where: str) -> Condition:
    regex = _wildcard_regex(_string(operand, where, "wildcard"), where)
    return Condition(lambda value: isinstance(value, str) and regex.fullmatch(value) is not None)


def _numeric(operand: Any, where: str) -> Condition:
    bounds = _numeric_bounds(operand, where)

    def test(value: Any) -> bool:
        if not _is_number(value):
            return False
        return all(COMPARE[op](float(value), number) for op, number in bounds)

    return Condition(test)


def _anything_but(operand: Any, where: str) -> Condition:
    excluded = _excluded(operand, where)
    return Condition(lambda value: not excluded(value))


_OPERATORS: dict[str, Callable[[Any, str], Condition]] = {
    "exists": _exists,
    "prefix": _prefix,
    "suffix": _suffix,
    "equals-ignore-case": _equals_ignore_case,
    "wildcard": _wildcard,
    "numeric": _numeric,
    "anything-but": _anything_but,
}


def _excluded(operand: Any, where: str) -> Test:
    """What anything-but leaves out: a value, a list of values, or one string operator."""
    if isinstance(operand, str) or _is_number(operand):
        return _equal_to(operand)
    if isinstance(operand, list):
        strings = all(isinstance(item, str) for item in operand)
        numbers = all(_is_number(item) for item in operand)
        if not operand or not (strings or numbers):
            raise InvalidFilterPattern(f"{where}: anything-but takes strings or numbers")
        tests = [_equal_to(item) for item in operand]
        return lambda value: any(test(value) for test in tests)
    if isinstance(operand, dict) and len(operand) == 1:
        ((operator, inner),) = operand.items()
        if operator in ("prefix", "suffix", "wildcard"):
            return _OPERATORS[operator](inner, where).test
        if operator == "equals-ignore-case":
            texts = inner if isinstance(inner, list) and inner else [inner]
            lowered = {_string(text, where, operator).lower() for text in texts}
            return lambda value: isinstance(value, str) and value.lower() in lowered
    raise InvalidFilterPattern(f"{where}: anything-but does not take {json.dumps(operand)}")


# Helpers


def _equal_to(expected: Any) -> Test:
    if _is_number(expected):
        return lambda value: _is_number(value) and value == expected
    if isinstance(expected, bool):
        return lambda value: isinstance(value, bool) and value is expected
    if expected is None:
        return lambda value: value is None
    return lambda value: isinstance(value, str) and value == expected


def _text_test(operand: Any, where: str, operator: str, check: Callable[[str, str], bool]) -> Test:
    """prefix/suffix: a string, or `{"equals-ignore-case": string}`."""
    if isinstance(operand, dict) and list(operand) == ["equals-ignore-case"]:
        text = _string(operand["equals-ignore-case"], where, operator).lower()
        return lambda value: isinstance(value, str) and check(value.lower(), text)
    text = _string(operand, where, operator)
    return lambda value: isinstance(value, str) and check(value, text)


def _numeric_bounds(operand: Any, where: str) -> list[tuple[str, float]]:
    if not isinstance(operand, list) or not operand or len(operand) % 2:
        raise InvalidFilterPattern(f"{where}: numeric takes operator and number pairs")
    pairs = [(operand[i], operand[i + 1]) for i in range(0, len(operand), 2)]
    for op, number in pairs:
        if op not in COMPARE or not _is_number(number):
            raise InvalidFilterPattern(f"{where}: numeric does not take {op!r} {number!r}")
    ops = [op for op, _ in pairs]
    lower = [float(n) for op, n in pairs if op in NUMERIC_LOWER]
    upper = [float(n) for op, n in pairs if op in NUMERIC_UPPER]
    if ("=" in ops and len(pairs) > 1) or len(lower) > 1 or len(upper) > 1:
        raise InvalidFilterPattern(f"{where}: numeric takes = alone, or at most one range")
    if lower and upper and lower[0] >= upper[0]:
        raise InvalidFilterPattern(f"{where}: numeric range is empty")
    return [(op, float(number)) for op, number in pairs]


def _wildcard_regex(text: str, where: str) -> re.Pattern[str]:
    if "**" in text:
        raise InvalidFilterPattern(f"{where}: wildcard does not take consecutive *")
    parts, escaped = [], False
    for char in text:
        if escaped:
            parts.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            parts.append(".*" if char == "*" else re.escape(char))
    if escaped:
        raise InvalidFilterPattern(f"{where}: wildcard ends in an escape")
    return re.compile("".join(parts), re.DOTALL)


def _string(operand: Any, where: str, operator: str) -> str:
    if not isinstance(operand, str):
        raise InvalidFilterPattern(f"{where}: {operator} takes a string")
    return operand


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _leaf_values(value: Any) -> Iterator[Any]:
    """The leaf values of a field: an array counts as its elements; objects are not leaves."""
    if isinstance(value, list):
        for item in value:
            yield from _leaf_values(item)
    elif not isinstance(value, dict):
        yield value


def _field_matches(rule: Leaf | Pattern, event: dict[str, Any], key: str) -> bool:
    if isinstance(rule, Leaf):
        return rule.matches(event.get(key), key in event)
    value = event.get(key)
    if isinstance(value, list):
        objects = [item for item in value if isinstance(item, dict)]
        if objects:
            return any(rule.matches(item) for item in objects)
    return rule.matches(value)
