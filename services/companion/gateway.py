"""The companion's front door (a hook on moto's WSGI dispatcher): a Lambda API request that
reaches it is forwarded to Tarn, never served by moto's own Lambda backend; every request that
may change state is reported, so a snapshot follows."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from services.companion.tarn import READ_TIMEOUT_S, lambda_endpoint
from services.routing import serves_lambda

READ_ONLY_METHODS = ("GET", "HEAD", "OPTIONS")
READ_ONLY_ACTIONS = ("Get", "List", "Describe", "Head")
# Changes made on every invocation or poll: a snapshot for each, every second, would cost more
# than the invocation itself (moto's whole state is pickled); they ride with the next snapshot,
# or one LAZY_INTERVAL_S later. A crash may lose these: log lines, and receipts of messages a
# poller then delivers again (at least once, as on AWS).
FREQUENT_ACTIONS = ("PutLogEvents", "ReceiveMessage", "ChangeMessageVisibility")
HOP_BY_HOP = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}
# What the hook replaces; tests check it is still there with this shape after a moto upgrade.
HOOKED = (DomainDispatcherApplication, "__call__")


def install(on_change: Callable[[bool], None]) -> None:
    """`on_change(frequent)` after every request that may change state."""
    original: Callable[..., Any] = DomainDispatcherApplication.__call__

    def dispatch(
        self: DomainDispatcherApplication, environ: dict[str, Any], start_response: Any
    ) -> Any:
        if serves_lambda(environ.get("PATH_INFO", ""), _query(environ), _headers(environ)):
            return forward_to_tarn(environ, start_response)
        try:
            return original(self, environ, start_response)
        finally:
            if not read_only(environ):
                on_change(_action(environ).startswith(FREQUENT_ACTIONS))

    DomainDispatcherApplication.__call__ = dispatch  # type: ignore[method-assign]


def read_only(environ: dict[str, Any]) -> bool:
    """GETs and JSON-protocol reads (`X-Amz-Target: Service.GetX`) change nothing; a query-
    protocol POST (SQS, SNS, ...) names its action in the body, which is not read here."""
    if environ.get("REQUEST_METHOD") in READ_ONLY_METHODS:
        return True
    return _action(environ).startswith(READ_ONLY_ACTIONS)


def _action(environ: dict[str, Any]) -> str:
    """A JSON-protocol request's action (`X-Amz-Target: Service.Action`); empty otherwise."""
    return str(environ.get("HTTP_X_AMZ_TARGET", "")).rpartition(".")[2]


def forward_to_tarn(environ: dict[str, Any], start: Any) -> list[bytes]:
    """Answer a Lambda request with Tarn's answer to it: one Lambda, Tarn's. (httpx is
    imported here, at the first: 50 ms of the companion's start otherwise.)"""
    import httpx

    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    path = environ.get("RAW_URI") or quote(environ.get("PATH_INFO", ""))
    query = environ.get("QUERY_STRING", "")
    url = lambda_endpoint() + path + (f"?{query}" if query and "?" not in path else "")
    headers = [
        (name.decode(), value.decode())
        for name, value in _headers(environ)
        if name.decode() not in HOP_BY_HOP
    ]
    try:
        with httpx.Client(timeout=READ_TIMEOUT_S, trust_env=False) as client:
            response = client.request(environ["REQUEST_METHOD"], url, headers=headers, content=body)
    except httpx.HTTPError as exc:
        return _unreachable(start, f"{url}: {exc}")
    kept = [(k, v) for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP]
    start(f"{response.status_code} {response.reason_phrase}", kept)
    return [response.content]


def _unreachable(start: Any, reason: str) -> list[bytes]:
    message = f"Lambda is served by Tarn, and Tarn did not answer the companion ({reason})"
    body = json.dumps({"Type": "Service", "message": message}).encode()
    start(
        "502 Bad Gateway",
        [("Content-Type", "application/json"), ("X-Amzn-ErrorType", "ServiceException")],
    )
    return [body]


def _query(environ: dict[str, Any]) -> bytes:
    return str(environ.get("QUERY_STRING", "")).encode("latin-1")


def _headers(environ: dict[str, Any]) -> list[tuple[bytes, bytes]]:
    headers = [
        (key[5:].replace("_", "-").lower().encode(), str(value).encode("latin-1"))
        for key, value in environ.items()
        if key.startswith("HTTP_")
    ]
    if environ.get("CONTENT_TYPE"):
        headers.append((b"content-type", str(environ["CONTENT_TYPE"]).encode("latin-1")))
    return headers
