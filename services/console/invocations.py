"""`/_tarn/invocations`: the invocation records, newest first, filtered; one request's records
(an async event's attempts and its end); and a live feed of new ones as server-sent events."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import msgspec
from quart import Response, request
from redis.exceptions import RedisError

from bus.invocation_records import (
    SCAN_MAX,
    AnyRecord,
    decode_entries,
    matches,
    newest,
    to_json,
)
from services.console.blueprint import BadQuery, blueprint, int_arg
from services.context import api
from services.responses import json_response

STREAM_ID = re.compile(r"\d{1,20}-\d{1,20}")
LIVE_BLOCK_MS = 5_000  # under the Redis client's socket timeout; a comment keeps the line open
LIVE_BATCH = 100
MAX_LIMIT = 1_000


def _filter() -> tuple[str, str, str]:
    args = request.args
    return args.get("function", ""), args.get("outcome", ""), args.get("trigger", "")


@blueprint.get("/_tarn/invocations")
async def list_invocations() -> Response:
    """?function=&outcome=&trigger=&since=<epoch ms>&before=<record id>&limit=<1..1000>"""
    context = api()
    function, outcome, trigger = _filter()
    before = request.args.get("before", "")
    if before and not STREAM_ID.fullmatch(before):
        raise BadQuery(f"before must be a record id (<ms>-<n>), not {before!r}")
    found = await newest(
        context.redis,
        context.keys,
        matches(function, outcome, trigger),
        since_ms=int_arg("since", 0),
        until_id=f"({before}" if before else "+",
        limit=int_arg("limit", 100, low=1, high=MAX_LIMIT),
    )
    return json_response({"invocations": [to_json(entry) for entry in found]})


@blueprint.get("/_tarn/invocations/<request_id>")
async def one_request(request_id: str) -> Response:
    """Every record of one request id, oldest first: an async event's attempts, then its end."""
    context = api()
    found = await newest(
        context.redis, context.keys, matches(request_id=request_id), limit=SCAN_MAX
    )
    if not found:
        return json_response({"message": f"no record of {request_id}"}, 404)
    return json_response({"invocations": [to_json(entry) for entry in reversed(found)]})


@blueprint.get("/_tarn/invocations/live")
async def live() -> Response:
    """New records as they are written, as server-sent events (`data:` one JSON record)."""
    context = api()
    wanted = matches(*_filter())
    key = context.keys.invocation_records
    start = request.headers.get("Last-Event-ID", "")  # a reconnect goes on where it stopped
    if not STREAM_ID.fullmatch(start):
        last = await context.redis.xrevrange(key, count=1)
        start = last[0][0].decode() if last else "0-0"

    async def events() -> AsyncIterator[bytes]:
        cursor = start
        yield b"retry: 2000\n\n"  # when the stream ends, the browser reconnects after 2 s
        while True:
            try:
                answer = await context.redis.xread(
                    {key: cursor}, count=LIVE_BATCH, block=LIVE_BLOCK_MS
                )
            except (RedisError, OSError):  # Redis restarting, or the stack stopping
                return
            entries = answer[0][1] if answer else []
            if not entries:
                yield b": idle\n\n"
                continue
            cursor = entries[-1][0].decode()
            for entry in decode_entries(entries):
                if wanted(entry[1]):
                    yield _event(entry)

    response = Response(events(), content_type="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.timeout = None
    return response


def _event(entry: tuple[str, AnyRecord]) -> bytes:
    return b"id: " + entry[0].encode() + b"\ndata: " + msgspec.json.encode(to_json(entry)) + b"\n\n"
