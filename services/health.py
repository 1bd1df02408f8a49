"""`GET /_tarn/health`: 200 once Redis, the API, the companion AWS endpoint and every configured
worker role are up; `instances` says how many live processes each role has (scaled out with
`tarn up --scale` or `docker compose up --scale`, on one host or several)."""

from __future__ import annotations

from collections import Counter

from quart import Blueprint, Response

from bus.transport.heartbeats import live_instances
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
        alive = await live_instances(context.redis, context.keys)
    except Exception:
        components["redis"] = "unreachable"
        alive = Counter()
    for role in context.settings.workers:
        components[role] = "ready" if alive[role] else "starting"
    aws = context.aws
    if aws is not None:
        components["companion"] = "ready" if await aws.ready() else "unreachable"
    ready = all(state == "ready" for state in components.values())
    instances = {role: alive[role] for role in context.settings.workers}
    body = {"status": "ready" if ready else "starting", "components": components}
    return json_response(body | {"instances": instances}, 200 if ready else 503)
