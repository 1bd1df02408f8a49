"""`GET /_tarn/health`: 200 once Redis, the API, the companion AWS endpoint and every configured
worker role are up."""

from __future__ import annotations

from quart import Blueprint, Response

from bus.heartbeats import live_roles
from services.context import api
from services.responses import json_response

blueprint = Blueprint("health", __name__)


@blueprint.get("/_tarn/health")
async def health() -> Response:
    context = api()
    components: dict[str, str] = {"api": "ready"}
    try:
        await context.redis.ping()
        components["redis"] = "ready"
        alive = await live_roles(context.redis, context.keys)
    except Exception:
        components["redis"] = "unreachable"
        alive = set()
    for role in context.settings.workers:
        components[role] = "ready" if role in alive else "starting"
    aws = context.aws
    if aws is not None:
        components["companion"] = "ready" if await aws.ready() else "unreachable"
    ready = all(state == "ready" for state in components.values())
    body = {"status": "ready" if ready else "starting", "components": components}
    return json_response(body, 200 if ready else 503)
