"""JSON responses encoded with msgspec (faster than Quart's json provider, same bytes)."""

from __future__ import annotations

import msgspec
from quart import Response

_ENCODER = msgspec.json.Encoder()


def json_response(body: object, status: int = 200) -> Response:
    return Response(_ENCODER.encode(body), status=status, content_type="application/json")
