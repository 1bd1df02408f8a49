"""Reading the stack's invocation records over HTTP, and the functions the console tests use."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any

from tests.conftest import Stack
from tests.waiting import wait_for

FAILING = """
def handler(event, context):
    print("attempt for", event.get("id"))
    raise RuntimeError("asked to fail")
"""


def tarn_json(stack: Stack, path: str, **params: object) -> Any:
    query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
    url = f"{stack.url}/_tarn/{path}" + (f"?{query}" if query else "")
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def records_of(stack: Stack, function: str, **params: object) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = tarn_json(stack, "invocations", function=function, **params)[
        "invocations"
    ]
    return found


def wait_for_records(
    stack: Stack, function: str, count: int, timeout_s: float = 20, **params: object
) -> list[dict[str, Any]]:
    """The function's records once there are at least `count` (newest first)."""
    found: list[dict[str, Any]] = []

    def enough() -> bool:
        found[:] = records_of(stack, function, **params)
        return len(found) >= count

    wait_for(enough, timeout_s, f"{count} records of {function}")
    return found
