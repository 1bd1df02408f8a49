"""`GET /_tarn/console`: the console's one page; its script draws every view (by the URL's
fragment) from the JSON endpoints and the Lambda API, as text nodes only."""

from __future__ import annotations

from quart import Response, redirect

from services.console.blueprint import blueprint

# The page loads only its own files; nothing a function printed can run as script there.
POLICY = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'"


@blueprint.get("/_tarn/console")
async def console() -> Response:
    response = await blueprint.send_static_file("index.html")
    response.headers["Content-Security-Policy"] = POLICY
    response.headers["Cache-Control"] = "no-cache"
    return response


@blueprint.get("/_tarn/console/")
async def console_slash() -> Response:
    return redirect("/_tarn/console")  # type: ignore[return-value]
