"""moto's own Lambda backend, as the other moto services call it (CloudWatch Logs subscription
filters, Secrets Manager rotation, SES, Config), answers from Tarn: a function is looked up in
Tarn and invoked in Tarn, so nothing runs in, or is found only by, moto's Lambda.
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html
"""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

from moto.awslambda.models import LambdaBackend

from services.companion.tarn import invoke_event, lambda_client

HOOKED: list[tuple[object, str, tuple[str, ...]]] = [
    (LambdaBackend, "get_function", ("self", "function_name_or_arn", "qualifier")),
    (LambdaBackend, "invoke", ("self", "function_name", "qualifier", "body", "headers")),
    (
        LambdaBackend,
        "send_log_event",
        ("self", "function_arn", "filter_name", "log_group_name", "log_stream_name", "log_events"),
    ),
]


class TarnFunction:
    """What moto's callers use of a function: its names and `invoke`."""

    def __init__(self, backend: LambdaBackend, configuration: dict[str, Any]) -> None:
        self.backend = backend
        self.function_arn = configuration["FunctionArn"]
        self.function_name = configuration["FunctionName"]

    def invoke(self, body: str, request_headers: Any, response_headers: Any) -> bytes:
        return invoke(self.backend, self.function_arn, None, body, request_headers)


def install() -> None:
    LambdaBackend.get_function = get_function  # type: ignore[method-assign,assignment]
    LambdaBackend.invoke = invoke  # type: ignore[method-assign]
    LambdaBackend.send_log_event = send_log_event  # type: ignore[method-assign]


def get_function(
    self: LambdaBackend, function_name_or_arn: str, qualifier: str | None = None
) -> TarnFunction:
    """Tarn's function, or Tarn's ResourceNotFoundException (moto's callers turn any error
    into their own service's answer)."""
    extra = {"Qualifier": qualifier} if qualifier else {}
    client = lambda_client(self.region_name)
    configuration = client.get_function_configuration(FunctionName=function_name_or_arn, **extra)
    return TarnFunction(self, configuration)


def invoke(
    self: LambdaBackend,
    function_name: str,
    qualifier: str | None,
    body: Any,
    headers: Any,
    response_headers: Any = None,
) -> bytes:
    """A synchronous invocation in Tarn (an Event one if the headers ask): its payload."""
    kind = (headers or {}).get("X-Amz-Invocation-Type", "RequestResponse")
    payload = body if isinstance(body, bytes) else str(body).encode()
    extra = {"Qualifier": qualifier} if qualifier else {}
    response = lambda_client(self.region_name).invoke(
        FunctionName=function_name, InvocationType=kind, Payload=payload, **extra
    )
    return bytes(response["Payload"].read())


def send_log_event(
    self: LambdaBackend,
    function_arn: str,
    filter_name: str,
    log_group_name: str,
    log_stream_name: str,
    log_events: Any,
) -> None:
    """The subscription filter's delivery: `awslogs.data`, gzip then base64, as AWS sends."""
    message = {
        "messageType": "DATA_MESSAGE",
        "owner": self.account_id,
        "logGroup": log_group_name,
        "logStream": log_stream_name,
        "subscriptionFilters": [filter_name],
        "logEvents": log_events,
    }
    data = base64.b64encode(gzip.compress(json.dumps(message).encode())).decode()
    invoke_event(function_arn, {"awslogs": {"data": data}}, self.region_name)
