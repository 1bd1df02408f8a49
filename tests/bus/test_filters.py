"""The event-filter pattern language: each operator on matching and non-matching records, as
AWS documents them, and the patterns AWS refuses."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bus.filters import InvalidFilterPattern, compile_filter


def matches(pattern: dict[str, Any], record: dict[str, Any]) -> bool:
    return compile_filter([json.dumps(pattern)]).matches(record)


def test_no_patterns_let_every_record_through() -> None:
    assert compile_filter([]).matches({"body": "anything"})


def test_any_pattern_matching_is_enough() -> None:
    event_filter = compile_filter(['{"a": ["x"]}', '{"b": ["y"]}'])
    assert event_filter.matches({"b": "y"})
    assert not event_filter.matches({"a": "y", "b": "x"})


def test_exact_values_are_an_or_within_a_field_and_an_and_across_fields() -> None:
    pattern = {"body": {"colour": ["red", "blue"], "size": ["L"]}}
    assert matches(pattern, {"body": {"colour": "blue", "size": "L"}})
    assert not matches(pattern, {"body": {"colour": "blue", "size": "M"}})
    assert not matches(pattern, {"body": {"colour": "green", "size": "L"}})
    assert not matches(pattern, {"body": {"colour": "red"}})


def test_numbers_strings_and_booleans_never_equal_each_other() -> None:
    assert matches({"n": [5]}, {"n": 5.0})
    assert not matches({"n": [5]}, {"n": "5"})
    assert not matches({"n": ["5"]}, {"n": 5})
    assert matches({"b": [True]}, {"b": True})
    assert not matches({"b": [True]}, {"b": 1})
    assert not matches({"n": [1]}, {"n": True})


def test_null_and_empty_string_are_values_of_their_own() -> None:
    assert matches({"k": [None]}, {"k": None})
    assert not matches({"k": [None]}, {})
    assert not matches({"k": [None]}, {"k": ""})
    assert matches({"k": [""]}, {"k": ""})
    assert not matches({"k": [""]}, {"k": None})


def test_prefix_suffix_and_their_ignore_case_forms() -> None:
    assert matches({"r": [{"prefix": "us-"}]}, {"r": "us-east-1"})
    assert not matches({"r": [{"prefix": "us-"}]}, {"r": "eu-west-1"})
    assert matches({"f": [{"suffix": ".png"}]}, {"f": "cat.png"})
    assert not matches({"f": [{"suffix": ".png"}]}, {"f": "cat.PNG"})
    assert matches({"f": [{"suffix": {"equals-ignore-case": ".png"}}]}, {"f": "cat.PNG"})
    assert matches({"r": [{"prefix": {"equals-ignore-case": "US-"}}]}, {"r": "us-east-1"})
    assert not matches({"r": [{"prefix": "1"}]}, {"r": 12})


def test_equals_ignore_case() -> None:
    assert matches({"s": [{"equals-ignore-case": "AbC"}]}, {"s": "abc"})
    assert not matches({"s": [{"equals-ignore-case": "abc"}]}, {"s": "abcd"})


def test_anything_but_values_needs_the_field_present() -> None:
    pattern = {"state": [{"anything-but": ["initializing", "stopped"]}]}
    assert matches(pattern, {"state": "running"})
    assert not matches(pattern, {"state": "stopped"})
    assert not matches(pattern, {})
    assert matches({"n": [{"anything-but": 3}]}, {"n": 4})
    assert not matches({"n": [{"anything-but": 3}]}, {"n": 3.0})


def test_anything_but_prefix_suffix_and_ignore_case() -> None:
    assert matches({"r": [{"anything-but": {"prefix": "us-"}}]}, {"r": "eu-west-1"})
    assert not matches({"r": [{"anything-but": {"prefix": "us-"}}]}, {"r": "us-east-1"})
    assert not matches({"f": [{"anything-but": {"suffix": ".png"}}]}, {"f": "a.png"})
    pattern = {"s": [{"anything-but": {"equals-ignore-case": ["on", "off"]}}]}
    assert not matches(pattern, {"s": "ON"})
    assert matches(pattern, {"s": "dim"})


@pytest.mark.parametrize(
    ("condition", "inside", "outside"),
    [
        (["=", 100], [100, 100.0], [99, 101, "100"]),
        ([">", 0, "<=", 5], [0.5, 5], [0, 5.1]),
        ([">=", 10], [10, 1e9], [9.99]),
        (["<", 0], [-1], [0, 1]),
    ],
)
def test_numeric_comparisons_and_ranges(
    condition: list[Any], inside: list[Any], outside: list[Any]
) -> None:
    pattern = {"price": [{"numeric": condition}]}
    for value in inside:
        assert matches(pattern, {"price": value}), value
    for value in outside:
        assert not matches(pattern, {"price": value}), value


def test_exists_true_and_false() -> None:
    assert matches({"a": [{"exists": True}]}, {"a": "x"})
    assert not matches({"a": [{"exists": True}]}, {"b": "x"})
    assert matches({"a": [{"exists": False}]}, {"b": "x"})
    assert not matches({"a": [{"exists": False}]}, {"a": "x"})
    # Only leaves exist: a field holding an object does not.
    assert not matches({"a": [{"exists": True}]}, {"a": {"b": 1}})
    assert matches({"a": {"b": [{"exists": False}]}}, {})


def test_an_array_in_the_event_matches_when_any_element_does() -> None:
    assert matches({"tags": ["blue"]}, {"tags": ["red", "blue"]})
    assert not matches({"tags": ["green"]}, {"tags": ["red", "blue"]})
    assert not matches({"tags": [{"exists": True}]}, {"tags": []})
    pattern = {"items": {"sku": ["a"], "qty": [{"numeric": [">", 1]}]}}
    assert matches(pattern, {"items": [{"sku": "b", "qty": 1}, {"sku": "a", "qty": 2}]})
    assert not matches(pattern, {"items": [{"sku": "b", "qty": 5}, {"sku": "a", "qty": 1}]})


def test_or_across_fields() -> None:
    pattern = {
        "source": ["shop"],
        "$or": [{"body": {"price": [{"numeric": [">", 100]}]}}, {"body": {"vip": [True]}}],
    }
    assert matches(pattern, {"source": "shop", "body": {"price": 150}})
    assert matches(pattern, {"source": "shop", "body": {"price": 1, "vip": True}})
    assert not matches(pattern, {"source": "shop", "body": {"price": 1}})
    assert not matches(pattern, {"source": "web", "body": {"vip": True}})


def test_wildcard() -> None:
    assert matches({"key": [{"wildcard": "logs/*.txt"}]}, {"key": "logs/a/b.txt"})
    assert not matches({"key": [{"wildcard": "logs/*.txt"}]}, {"key": "logs/a.csv"})
    assert matches({"key": [{"wildcard": "a\\*b"}]}, {"key": "a*b"})


def test_dynamodb_stream_records_filter_on_typed_images() -> None:
    pattern = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"kind": {"S": ["order"]}}}}
    record = {"eventName": "INSERT", "dynamodb": {"NewImage": {"kind": {"S": "order"}}}}
    assert matches(pattern, record)
    record["eventName"] = "MODIFY"
    assert not matches(pattern, record)


def test_sqs_plain_string_bodies_only_match_string_conditions() -> None:
    assert matches({"body": ["hello"]}, {"body": "hello"})
    assert matches({"body": [{"prefix": "he"}]}, {"body": "hello"})
    assert not matches({"body": {"greeting": ["hello"]}}, {"body": "hello"})
    assert not matches({"body": ["hello"]}, {"body": {"greeting": "hello"}})


@pytest.mark.parametrize(
    "text",
    [
        "",
        "simple string",
        "[]",
        '["a"]',
        '{"a": "b"}',
        '{"a": 1}',
        '{"a": [["b"]]}',
        '{"a": [{"prefix": 1}]}',
        '{"a": [{"prefix": "x", "suffix": "y"}]}',
        '{"a": [{"unknown": "x"}]}',
        '{"a": [{"exists": "yes"}]}',
        '{"a": [{"numeric": [">", "1"]}]}',
        '{"a": [{"numeric": ["=", 1, ">", 0]}]}',
        '{"a": [{"numeric": [">", 5, "<", 1]}]}',
        '{"a": [{"numeric": ["!=", 1]}]}',
        '{"a": [{"anything-but": []}]}',
        '{"a": [{"anything-but": ["x", 1]}]}',
        '{"a": [{"anything-but": {"numeric": [">", 1]}}]}',
        '{"a": [{"wildcard": "a**b"}]}',
        '{"$or": "x"}',
        '{"$or": [{"a": ["x"]}, "b"]}',
        '{"a": [NaN]}',
    ],
)
def test_invalid_patterns_are_refused(text: str) -> None:
    with pytest.raises(InvalidFilterPattern):
        compile_filter([text])
