"""`GET /_tarn/functions/<name>?Qualifier=VERSION`: what Tarn knows of a function version beyond
AWS's FunctionConfiguration (which must not carry Tarn's own fields): the executor running it."""

from __future__ import annotations

from quart import Blueprint, Response, request

from bus.records import LATEST
from services.context import api
from services.functions.refs import function_missing
from services.responses import json_response

blueprint = Blueprint("function_facts", __name__)


@blueprint.get("/_tarn/functions/<name>")
async def facts(name: str) -> Response:
    context = api()
    version = request.args.get("Qualifier") or LATEST
    record = await context.stores.functions.get(name, version)
    if record is None:
        raise function_missing(context, name)
    body = {"FunctionName": record.name, "Version": record.version, "Executor": record.executor}
    return json_response(body)
