"""Tarn's own client of the companion endpoint (or any AWS-compatible one): JSON-protocol
services (SQS, DynamoDB Streams, Secrets Manager, Logs, ...), query-protocol ones (SNS), S3
GetObject, and whether the endpoint answers at all.

Requests are SigV4-signed, in the configured region, with placeholder credentials: moto routes a
request by the service in its credential scope, and an endpoint that checks signatures accepts
them. httpx and botocore (about 35 MB and 0.6 s of imports) are imported at the first call, so
a process that never calls the companion never loads them.
"""

from __future__ import annotations

import functools
import importlib
import time
import xml.etree.ElementTree as ElementTree
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

import anyio
import msgspec

from bus.arns import Arn

if TYPE_CHECKING:
    import httpx
    from botocore.credentials import Credentials

# Credentials of an execution role on AWS; locally, placeholders that every SDK accepts.
DUMMY_ACCESS_KEY_ID = "test"
DUMMY_SECRET_ACCESS_KEY = "test"
CONTENT_TYPE = "application/x-amz-json-1.1"
QUERY_CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
TIMEOUT_S = 10.0
# An S3 object (a deployment package) may be large and the disk behind the endpoint slow.
OBJECT_TIMEOUT_S, OBJECT_CONNECT_TIMEOUT_S = 300.0, 5.0
PING_TIMEOUT_S = 1.0
UNREACHABLE = "ServiceUnavailable"  # CompanionError's code, with status 0, when nothing answered
PING_CACHE_S = 1.0  # health is polled often; the companion answers for itself once a second
# What a first call imports (about 0.1 s of CPU), and how long after its start a process that
# will call soon (the pool, at its first cold start) imports them in the background instead:
# after the stack's own start, which they would slow down on two cores.
FIRST_CALL_MODULES = ("httpx", "botocore.auth", "botocore.awsrequest", "botocore.credentials")
WARM_AFTER_S = 1.0


class CompanionError(Exception):
    """The companion answered a call with an AWS error (`code` is its error type), or did not
    answer at all (status 0, UNREACHABLE); `message` says so in AWS's words where Tarn reads
    them. Callers never see httpx's own errors, nor import httpx for them."""

    def __init__(self, status: int, code: str, body: bytes, message: str = "") -> None:
        super().__init__(f"{status} {code}" + (f": {message}" if message else ""))
        self.status = status
        self.code = code
        self.body = body
        self.message = message

    @property
    def unreachable(self) -> bool:
        return self.status == 0


class Companion:
    """One HTTP client for the companion endpoint; `call` returns the raw AWS response.

    Safe to share between tasks; `aclose` once at the end.
    """

    def __init__(self, endpoint: str, region: str) -> None:
        self.endpoint = endpoint.rstrip("/") + "/"
        self.region = region
        self._http: httpx.AsyncClient | None = None
        self._answered_at = -PING_CACHE_S

    @property
    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            import httpx

            # Loopback or the user's own endpoint: never through an HTTP(S)_PROXY.
            self._http = httpx.AsyncClient(timeout=TIMEOUT_S, trust_env=False)
        return self._http

    async def call(self, service: str, target: str, body: dict[str, Any]) -> httpx.Response:
        """POST one JSON-protocol operation; CompanionError with status 0 when unreachable."""
        data = msgspec.json.encode(body)
        headers = self._signed(service, target, data)
        return await self._post(data, headers)

    async def _post(self, data: bytes, headers: dict[str, str]) -> httpx.Response:
        import httpx

        try:
            return await self._client.post(self.endpoint, content=data, headers=headers)
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from exc

    def _unreachable(self, exc: Exception) -> CompanionError:
        """What any call raises when the endpoint does not answer (httpx stays this module's)."""
        message = f"{self.endpoint.rstrip('/')} did not answer ({type(exc).__name__}: {exc})"
        return CompanionError(0, UNREACHABLE, b"", message)

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
        answer = await self._post(data, headers)
        if answer.status_code >= 300:
            raise CompanionError(
                answer.status_code, query_error_code(answer.content), answer.content
            )
        return ElementTree.fromstring(answer.content)

    async def get_object(self, bucket: str, key: str, version: str | None, max_bytes: int) -> bytes:
        """S3 GetObject, path-style; CompanionError with S3's error code when it fails."""
        import httpx
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest

        url = httpx.URL(
            f"{self.endpoint}{quote(bucket, safe='')}/{quote(key, safe='/~')}",
            params={"versionId": version} if version else None,
        )
        request = AWSRequest(method="GET", url=str(url), headers={})
        S3SigV4Auth(_credentials(), "s3", self.region).add_auth(request)
        headers = dict(request.headers.items())
        timeout = httpx.Timeout(OBJECT_TIMEOUT_S, connect=OBJECT_CONNECT_TIMEOUT_S)
        try:
            async with self._client.stream("GET", url, headers=headers, timeout=timeout) as got:
                if got.status_code != 200:
                    raise s3_error(got.status_code, await got.aread())
                if int(got.headers.get("content-length") or 0) > max_bytes:
                    message = f"The object is over {max_bytes} bytes"
                    raise CompanionError(got.status_code, "EntityTooLarge", b"", message)
                return await got.aread()
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from exc

    async def ready(self) -> bool:
        """Whether the endpoint takes connections (moto binds its port once it can serve):
        without httpx, which the API's start would otherwise load for its first health check.
        An answer holds for a second; a failure is not kept, so that `tarn up` sees the
        companion ready as soon as it is."""
        if time.monotonic() - self._answered_at < PING_CACHE_S:
            return True
        url = urlsplit(self.endpoint)
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            with anyio.fail_after(PING_TIMEOUT_S):
                connection = await anyio.connect_tcp(url.hostname or "localhost", port)
        except (OSError, TimeoutError):
            return False
        await connection.aclose()
        self._answered_at = time.monotonic()
        return True

    async def warm_up(self, after_s: float = WARM_AFTER_S) -> None:
        """Import what the first call needs, `after_s` from now, in a thread: that call (the
        first cold start's credentials) then does not wait for it."""
        await anyio.sleep(after_s)
        await anyio.to_thread.run_sync(_import_all, FIRST_CALL_MODULES)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    def _signed(self, service: str, target: str, data: bytes) -> dict[str, str]:
        return self._sign(service, data, {"X-Amz-Target": target, "Content-Type": CONTENT_TYPE})

    def _sign(self, service: str, data: bytes, headers: dict[str, str]) -> dict[str, str]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        request = AWSRequest(method="POST", url=self.endpoint, data=data, headers=headers)
        SigV4Auth(_credentials(), service, self.region).add_auth(request)
        return dict(request.headers.items())


def _import_all(names: tuple[str, ...]) -> None:
    for name in names:
        importlib.import_module(name)


@functools.cache
def _credentials() -> Credentials:
    from botocore.credentials import Credentials

    return Credentials(DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY)


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
    arn = Arn.parse(queue_arn)
    account, name = arn.account, arn.resource
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


def s3_error(status: int, body: bytes) -> CompanionError:
    """S3's `<Error><Code>NoSuchKey</Code><Message>...</Message></Error>`."""
    try:
        root = ElementTree.fromstring(body)
        code, message = root.findtext("Code"), root.findtext("Message")
    except ElementTree.ParseError:
        code = message = None
    return CompanionError(
        status, code or f"HTTP{status}", body, message or f"S3 answered HTTP {status}"
    )


def find_text(root: ElementTree.Element, name: str) -> str | None:
    """The text of the first element called `name` in a query-protocol answer, namespaces aside."""
    for element in root.iter():
        if element.tag.rpartition("}")[2] == name:
            return element.text
    return None
