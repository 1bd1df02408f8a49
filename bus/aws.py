"""Tarn's own calls to the companion endpoint (or any AWS-compatible one): JSON-protocol
services (SQS, DynamoDB Streams, Secrets Manager, Logs, ...) and query-protocol ones (SNS).

Requests are SigV4-signed with placeholder credentials: moto routes a request by the service in
its credential scope, and an endpoint that checks signatures accepts them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from typing import Any
from urllib.parse import urlencode

import httpx
import msgspec
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

# Credentials of an execution role on AWS; locally, placeholders that every SDK accepts.
DUMMY_ACCESS_KEY_ID = "test"
DUMMY_SECRET_ACCESS_KEY = "test"
CONTENT_TYPE = "application/x-amz-json-1.1"
QUERY_CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
TIMEOUT_S = 10.0


class CompanionError(Exception):
    """The companion answered a call with an AWS error (`code` is its error type)."""

    def __init__(self, status: int, code: str, body: bytes) -> None:
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code
        self.body = body


class Companion:
    """One HTTP client for the companion endpoint; `call` returns the raw AWS response.

    Safe to share between tasks; `aclose` once at the end.
    """

    def __init__(self, endpoint: str, region: str) -> None:
        self.endpoint = endpoint.rstrip("/") + "/"
        self.region = region
        self._credentials = Credentials(DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY)
        self._client = httpx.AsyncClient(timeout=TIMEOUT_S)

    async def call(self, service: str, target: str, body: dict[str, Any]) -> httpx.Response:
        """POST one JSON-protocol operation; raises httpx.HTTPError when unreachable."""
        data = msgspec.json.encode(body)
        headers = self._signed(service, target, data)
        return await self._client.post(self.endpoint, content=data, headers=headers)

    async def ok(self, service: str, target: str, body: dict[str, Any]) -> Any:
        """`call`, decoded; an AWS error raises CompanionError."""
        answer = await self.call(service, target, body)
        if answer.status_code >= 300:
            raise CompanionError(answer.status_code, error_code(answer.content), answer.content)
        return msgspec.json.decode(answer.content) if answer.content else {}

    async def query(
        self, service: str, action: str, version: str, parameters: dict[str, str]
    ) -> ElementTree.Element:
        """One query-protocol operation (SNS, ...); the parsed XML answer, or CompanionError."""
        data = urlencode({"Action": action, "Version": version, **parameters}).encode()
        headers = self._sign(service, data, {"Content-Type": QUERY_CONTENT_TYPE})
        answer = await self._client.post(self.endpoint, content=data, headers=headers)
        if answer.status_code >= 300:
            raise CompanionError(
                answer.status_code, query_error_code(answer.content), answer.content
            )
        return ElementTree.fromstring(answer.content)

    async def aclose(self) -> None:
        await self._client.aclose()

    def _signed(self, service: str, target: str, data: bytes) -> dict[str, str]:
        return self._sign(service, data, {"X-Amz-Target": target, "Content-Type": CONTENT_TYPE})

    def _sign(self, service: str, data: bytes, headers: dict[str, str]) -> dict[str, str]:
        request = AWSRequest(method="POST", url=self.endpoint, data=data, headers=headers)
        SigV4Auth(self._credentials, service, self.region).add_auth(request)
        return dict(request.headers.items())


def error_code(body: bytes) -> str:
    """The error type of an AWS JSON error body (`__type`, maybe prefixed with a namespace)."""
    try:
        error = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return ""
    if not isinstance(error, dict):
        return ""
    return str(error.get("__type") or error.get("code") or "").rpartition("#")[2]


async def queue_url(companion: Companion, queue_arn: str) -> str:
    """The URL of the SQS queue `queue_arn` names (GetQueueUrl); CompanionError if none."""
    _, _, _, _, account, name = queue_arn.split(":", 5)
    found = await companion.ok(
        "sqs", "AmazonSQS.GetQueueUrl", {"QueueName": name, "QueueOwnerAWSAccountId": account}
    )
    return str(found["QueueUrl"])


def query_error_code(body: bytes) -> str:
    """The `<Code>` of an AWS query-protocol error body ("" when there is none)."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return ""
    for element in root.iter():
        if element.tag.rpartition("}")[2] == "Code" and element.text:
            return element.text
    return ""


def find_text(root: ElementTree.Element, name: str) -> str | None:
    """The text of the first element called `name` in a query-protocol answer, namespaces aside."""
    for element in root.iter():
        if element.tag.rpartition("}")[2] == name:
            return element.text
    return None
