"""The companion's client of Tarn's Lambda API: botocore at Tarn's own endpoint, which the
companion reads from the stack's settings (TARN_HOST, TARN_PORT or TARN_PUBLIC_URL)."""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

import botocore.session
from botocore.config import Config

from bus.aws import DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY
from bus.settings import Settings

# `tarn up` binds these; a client reaches them on loopback.
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
# Long enough for CreateFunction with a large package; Invoke (Event) answers at once.
READ_TIMEOUT_S = 300


@cache
def settings() -> Settings:
    return Settings.from_env()


def lambda_endpoint() -> str:
    """Tarn's API as this process reaches it."""
    stack = settings()
    if stack.public_url:
        return stack.public_url.rstrip("/")
    host = "127.0.0.1" if stack.host in WILDCARD_HOSTS else stack.host
    return f"http://{host}:{stack.port}"


@cache
def lambda_client(region: str) -> Any:
    """One botocore Lambda client per region; botocore clients are thread-safe."""
    session = botocore.session.get_session()
    return session.create_client(
        "lambda",
        region_name=region,
        endpoint_url=lambda_endpoint(),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", DUMMY_ACCESS_KEY_ID),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET_ACCESS_KEY),
        config=Config(retries={"max_attempts": 3}, read_timeout=READ_TIMEOUT_S),
    )


def region_of(arn: str, default: str) -> str:
    parts = arn.split(":")
    return parts[3] if arn.startswith("arn:") and len(parts) > 3 and parts[3] else default


def invoke_event(function: str, event: dict[str, Any], region: str) -> None:
    """An asynchronous invocation in Tarn, as AWS's push sources make one: Tarn's async path
    then owns retries, destinations and the dead-letter queue."""
    lambda_client(region_of(function, region)).invoke(
        FunctionName=function, InvocationType="Event", Payload=json.dumps(event).encode()
    )
