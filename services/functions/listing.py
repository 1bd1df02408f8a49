"""ListFunctions with `FunctionVersion=ALL`: every version of every function, functions in
name order and each one's versions $LATEST first, then by number; ARNs qualified.

https://docs.aws.amazon.com/lambda/latest/api/API_ListFunctions.html
"""

from __future__ import annotations

from quart import Response, request

from bus.records import LATEST, FunctionVersion
from services.context import ApiContext
from services.functions.configurations import render_listed
from services.requests import ListPage, Problems

MARKER_SEPARATOR = ":"  # Marker: "<function name>:<version>" of the last item listed


def all_versions() -> bool:
    """Whether the request asks for every version; any other value is AWS's validation error."""
    value = request.args.get("FunctionVersion")
    if value is None:
        return False
    problems = Problems()
    if value != "ALL":
        problems.add(value, "functionVersion", "Member must satisfy enum value set: [ALL]")
    problems.raise_any()
    return True


async def list_all_versions(context: ApiContext, page: ListPage) -> Response:
    """One page of ListFunctions' response, every version counted as one item."""
    records = await _versions_after(context, page.marker, page.size + 1)
    region = context.settings.region
    return page.respond(
        "Functions",
        records,
        lambda r: render_listed(r, region, function_arn=r.qualified_arn),
        lambda r: f"{r.name}{MARKER_SEPARATOR}{r.version}",
    )


async def _versions_after(
    context: ApiContext, marker: str | None, count: int
) -> list[FunctionVersion]:
    functions = context.stores.functions
    found: list[FunctionVersion] = []
    name = None
    if marker:
        name, _, version = marker.partition(MARKER_SEPARATOR)
        after = _order(version)
        found = [r for r in await functions.versions(name) if _order(r.version) > after]
    while len(found) < count:
        names = await functions.names_after(name, count)
        if not names:
            break
        for name in names:
            found += await functions.versions(name)
    return found[:count]


def _order(version: str) -> int:
    return -1 if version == LATEST else int(version) if version.isdigit() else -2
