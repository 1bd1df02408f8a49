"""The console's one blueprint: its JSON endpoints under `/_tarn/`, its page and its static
files (served from this package, never from a CDN)."""

from __future__ import annotations

from quart import Blueprint, request

from services.responses import json_response

blueprint = Blueprint(
    "console",
    __name__,
    static_folder="static",
    static_url_path="/_tarn/console/static",
)


class BadQuery(ValueError):
    """A query parameter of a console endpoint that cannot be read; answered with 400."""


@blueprint.errorhandler(BadQuery)
async def bad_query(error: BadQuery):  # type: ignore[no-untyped-def]
    return json_response({"message": str(error)}, 400)


def int_arg(name: str, default: int, *, low: int = 0, high: int | None = None) -> int:
    """The integer query parameter `name` (default when absent), within [low, high]."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadQuery(f"{name} must be an integer, not {raw!r}") from None
    if value < low or (high is not None and value > high):
        raise BadQuery(f"{name} must be between {low} and {high}")
    return value
