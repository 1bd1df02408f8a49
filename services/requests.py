"""The request kit every operation uses: JSON bodies decoded into shapes, model constraints
collected into one ValidationException as AWS reports them, and List operations' pages.

Model constraints come from botocore's service model (service-2.json).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import msgspec
from quart import Response, request

from services.errors import (
    InvalidParameterValueException,
    InvalidRequestContentException,
    ValidationException,
)
from services.responses import json_response

T = TypeVar("T")

# botocore's DestinationConfig and DestinationArn shapes, which event-invoke configs and event
# source mappings share.
DESTINATION_ARN_PATTERN = (
    r"$|kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:"
    r"([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)"
)
DESTINATION_ARN_MAX = 350
# What a body nested deeper than the decoder recurses gets (AWS's JSON parser stops at 1,000).
TOO_DEEP = "Could not parse request body into json: the document is nested too deeply"
# Lists page at most this many items, whatever MaxItems asks for (unless an operation says).
LIST_PAGE_MAX = 50
# MaxItems' upper bound in the model of most List operations.
MAX_ITEMS = 10_000


class RequestShape(msgspec.Struct, rename="pascal", omit_defaults=True):
    pass


class DestinationInput(RequestShape):
    destination: str | None = None


class DestinationConfigInput(RequestShape):
    on_success: DestinationInput | None = None
    on_failure: DestinationInput | None = None


async def read_body() -> bytes:
    data = await request.get_data(as_text=False)
    return data.encode() if isinstance(data, str) else data


def decode_body(body: bytes, shape: type[T]) -> T:
    """Decode a JSON body; anything malformed is AWS's InvalidRequestContentException."""
    try:
        return msgspec.json.decode(body or b"{}", type=shape)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise InvalidRequestContentException(
            f"Could not parse request body into json: {exc}"
        ) from None
    except RecursionError:
        raise InvalidRequestContentException(TOO_DEEP) from None


class Problems:
    """Collects model-constraint violations; `raise_any` reports them as AWS does."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, value: object, member: str, rule: str) -> None:
        shown = "null" if value is None else f"'{value}'"
        self.items.append(f"Value {shown} at '{member}' failed to satisfy constraint: {rule}")

    def add_raw(self, text: str) -> None:
        self.items.append(text)

    def required(self, value: object, member: str) -> None:
        if value is None:
            self.add(None, member, "Member must not be null")

    def pattern(self, value: str | None, member: str, pattern: str) -> None:
        if value is not None and re.fullmatch(pattern, value) is None:
            self.add(value, member, f"Member must satisfy regular expression pattern: {pattern}")

    def bounds(self, value: int | None, member: str, low: int, high: int) -> None:
        if value is not None and value < low:
            self.add(value, member, f"Member must have value greater than or equal to {low}")
        elif value is not None and value > high:
            self.add(value, member, f"Member must have value less than or equal to {high}")

    def max_length(self, value: str | None, member: str, high: int) -> None:
        if value is not None and len(value) > high:
            self.add(value, member, f"Member must have length less than or equal to {high}")

    def raise_any(self) -> None:
        if not self.items:
            return
        count = len(self.items)
        noun = "error" if count == 1 else "errors"
        raise ValidationException(f"{count} validation {noun} detected: " + "; ".join(self.items))


@dataclass(frozen=True, slots=True)
class ListPage:
    """What a List operation's query asks for: the page after `marker`, `size` items at most."""

    marker: str | None
    size: int

    def cut(self, items: Sequence[T], marker_of: Callable[[T], str]) -> tuple[list[T], str | None]:
        """The first page of `items` (those after the marker already), and the NextMarker that
        continues after it, or None when nothing is left."""
        page = list(items[: self.size])
        return page, marker_of(page[-1]) if len(items) > self.size else None

    def respond(
        self,
        member: str,
        items: Sequence[T],
        render: Callable[[T], object],
        marker_of: Callable[[T], str],
    ) -> Response:
        """The List answer: `member` holding the page of `items` rendered, and NextMarker."""
        page, next_marker = self.cut(items, marker_of)
        return listing(member, [render(item) for item in page], next_marker)


def list_page(
    *, high: int = MAX_ITEMS, most: int = LIST_PAGE_MAX, problems: Problems | None = None
) -> ListPage:
    """Marker and MaxItems (from 1 to `high`, at most `most` served) of this request, checked as
    AWS checks them, together with any `problems` the operation found in its other parameters."""
    problems = problems or Problems()
    raw = request.args.get("MaxItems")
    size = most
    if raw is not None:
        try:
            value = int(raw)
        except ValueError:
            raise InvalidParameterValueException(f"Invalid MaxItems value: {raw}") from None
        problems.bounds(value, "maxItems", 1, high)
        size = min(value, most)
    problems.raise_any()
    return ListPage(request.args.get("Marker") or None, size)


def listing(member: str, page: Sequence[object], next_marker: str | None) -> Response:
    body: dict[str, object] = {member: list(page)}
    if next_marker is not None:
        body["NextMarker"] = next_marker
    return json_response(body)
