"""The AWS Parameters and Secrets Lambda Extension: one server per pool worker, on localhost.

Mirrors https://docs.aws.amazon.com/secretsmanager/latest/userguide/retrieving-secrets_lambda.html
and https://docs.aws.amazon.com/systems-manager/latest/userguide/ps-integration-lambda-extensions.html:
GetSecretValue / GetParameter answers as-is from the companion, cached per environment.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import anyio
import h11
import msgspec
from anyio.abc import TaskGroup, TaskStatus

from bus.aws import Companion, CompanionError
from workers.pool.extension.cache import EnvironmentCache
from workers.pool.variables import EXTENSION_PORT_VARIABLE

log = logging.getLogger("tarn.pool")

HOST = "127.0.0.1"
TOKEN_HEADER = b"x-aws-parameters-secrets-token"
SECRETS_PATH = "/secretsmanager/get"
PARAMETERS_PATH = "/systemsmanager/parameters/get"
MAX_REQUEST_BYTES = 64 * 1024
READ_BYTES = 64 * 1024
BACKLOG = 128

Answer = tuple[int, bytes]
UNAUTHORIZED: Answer = (401, b'{"message":"Unauthorized"}')
NOT_FOUND: Answer = (404, b'{"message":"Not Found"}')
NOT_ALLOWED: Answer = (405, b'{"message":"Method Not Allowed"}')
NO_COMPANION: Answer = (502, b'{"message":"no AWS endpoint is configured (TARN_AWS_ENDPOINT)"}')


@dataclass(frozen=True, slots=True)
class Lookup:
    """One GetSecretValue or GetParameter call a request asks for."""

    kind: str  # "secrets" | "parameters": the cache it goes to
    service: str  # SigV4 service name
    target: str  # X-Amz-Target
    body: dict[str, object]
    key: str  # the cache key: the request's query, normalised


def lookup(target: str) -> Lookup | Answer:
    """The call `target` (path and query) asks for, or the answer to a malformed request."""
    url = urlsplit(target)
    query = {name: values[-1] for name, values in parse_qs(url.query).items()}
    key = url.path + "?" + "&".join(f"{k}={v}" for k, v in sorted(query.items()))
    if url.path == SECRETS_PATH:
        if not query.get("secretId"):
            return _bad_request("secretId is required")
        body: dict[str, object] = {"SecretId": query["secretId"]}
        if "versionId" in query:
            body["VersionId"] = query["versionId"]
        if "versionStage" in query:
            body["VersionStage"] = query["versionStage"]
        return Lookup("secrets", "secretsmanager", "secretsmanager.GetSecretValue", body, key)
    if url.path == PARAMETERS_PATH:
        if not query.get("name"):
            return _bad_request("name is required")
        if "version" in query and "label" in query:
            return _bad_request("specify either version or label, not both")
        # GetParameter selects a version or label as a suffix of the name.
        selector = query.get("version") or query.get("label")
        name = query["name"] + (f":{selector}" if selector else "")
        decrypt = query.get("withDecryption", "false").lower() == "true"
        body = {"Name": name, "WithDecryption": decrypt}
        return Lookup("parameters", "ssm", "AmazonSSM.GetParameter", body, key)
    return NOT_FOUND


def _bad_request(message: str) -> Answer:
    return 400, b'{"message":"%s"}' % message.encode()


class ParametersSecretsExtension:
    """Serves the extension's endpoints to this worker's live environments (by their token)."""

    def __init__(self, companion: Companion | None, port: int) -> None:
        self.companion = companion
        self.port = port
        self._callers: dict[str, EnvironmentCache] = {}
        self._ports: set[int] = set()  # listening or failed: never tried twice
        # Loopback, and where sandboxes with a loopback of their own reach the worker.
        self._hosts = [HOST]
        self._serving: set[int] = set()  # the ports listened on
        self._tasks: TaskGroup | None = None

    async def run(self, *, task_status: TaskStatus[int] = anyio.TASK_STATUS_IGNORED) -> None:
        """Listen until cancelled; reports the port it listens on when it starts."""
        listener = self._bind(self.port)
        if listener is None:  # AWS's port is taken (another stack): functions read the variable
            listener = self._bind(0)
            assert listener is not None, "any free port"
        self.port = int(listener.getsockname()[1])
        self._ports.add(self.port)
        self._serving.add(self.port)
        async with anyio.create_task_group() as tasks:
            self._tasks = tasks
            tasks.start_soon(self._serve, listener)
            task_status.started(self.port)

    async def honour_port(self, variables: Mapping[str, str]) -> None:
        """Also listen on the port a function names in PARAMETERS_SECRETS_EXTENSION_HTTP_PORT."""
        wanted = variables.get(EXTENSION_PORT_VARIABLE, "")
        if not wanted.isdigit() or int(wanted) in self._ports or self._tasks is None:
            return
        for host in self._hosts:
            if await self._listen(host, int(wanted)):
                self._serving.add(int(wanted))

    async def listen_on(self, host: str) -> None:
        """Also serve every port on `host`: where a sandbox with a network namespace of its
        own (a bridge network) reaches this worker, through its proxy (workers/docker)."""
        if host in self._hosts or self._tasks is None:
            return
        self._hosts.append(host)
        for port in sorted(self._serving):
            await self._listen(host, port)

    async def _listen(self, host: str, port: int) -> bool:
        assert self._tasks is not None
        listener = self._bind(port, host)
        if listener is not None:
            self._tasks.start_soon(self._serve, listener)
        return listener is not None

    def admit(self, token: str, variables: Mapping[str, str]) -> None:
        """Answer requests carrying `token`, cached as the environment's `variables` say."""
        self._callers[token] = EnvironmentCache(variables)

    def dismiss(self, token: str) -> None:
        self._callers.pop(token, None)

    async def answer(self, method: bytes, target: str, token: str) -> Answer:
        """The status and body for one request."""
        cache = self._callers.get(token) if token else None
        if cache is None:
            return UNAUTHORIZED
        if method != b"GET":
            return NOT_ALLOWED
        wanted = lookup(target)
        if not isinstance(wanted, Lookup):
            return wanted
        cached = cache.get(wanted.kind, wanted.key)
        if cached is not None:
            return 200, cached
        if self.companion is None:
            return NO_COMPANION
        try:
            response = await self.companion.call(wanted.service, wanted.target, wanted.body)
        except CompanionError as exc:  # call() raises it only when nothing answered
            return 502, msgspec.json.encode(
                {"message": f"cannot reach the AWS endpoint: {exc.message}"}
            )
        if response.status_code == 200:
            cache.put(wanted.kind, wanted.key, response.content)
            return 200, response.content
        # AWS answers every client error of these JSON services with 400; moto uses 404 too.
        return (400 if response.status_code < 500 else response.status_code), response.content

    def _bind(self, port: int, host: str = HOST) -> socket.socket | None:
        self._ports.add(port)
        listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((host, port))
            listener.listen(BACKLOG)
        except OSError as exc:
            listener.close()
            log.warning(
                "Parameters and Secrets extension cannot listen on %s:%d: %s", host, port, exc
            )
            return None
        listener.setblocking(False)
        return listener

    async def _serve(self, listener: socket.socket) -> None:
        """Answer connections until cancelled. On plain non-blocking sockets, not asyncio
        transports: an accept is one call that cancellation cannot cut in two, and every socket
        is closed by what holds it. (anyio's accept, cancelled while it set a transport up,
        left the connection to the garbage collector: CI's flaky unclosed-transport warning.)"""
        accepted: set[socket.socket] = set()
        try:
            async with anyio.create_task_group() as connections:
                while True:
                    await anyio.wait_readable(listener)
                    try:
                        client, _ = listener.accept()
                    except (BlockingIOError, InterruptedError):
                        continue  # another waiter took it, or the caller gave up
                    client.setblocking(False)
                    accepted.add(client)
                    connections.start_soon(self._connection, client, accepted)
        finally:
            listener.close()
            for client in accepted:
                client.close()

    async def _connection(self, client: socket.socket, accepted: set[socket.socket]) -> None:
        connection = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_REQUEST_BYTES)
        try:
            while await self._exchange(client, connection):
                connection.start_next_cycle()
        except (ConnectionError, h11.ProtocolError):
            return  # the function hung up, or spoke something other than HTTP/1.1
        finally:
            accepted.discard(client)
            client.close()

    async def _exchange(self, client: socket.socket, connection: h11.Connection) -> bool:
        """Answer one request; False when the connection is done."""
        request = await _next_event(client, connection)
        if not isinstance(request, h11.Request):
            return False
        while not isinstance(await _next_event(client, connection), h11.EndOfMessage):
            pass  # a GET has no body worth reading
        token = next((v for k, v in request.headers if k == TOKEN_HEADER), b"")
        status, body = await self.answer(request.method, request.target.decode(), token.decode())
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        data = connection.send(h11.Response(status_code=status, headers=headers))
        data = (data or b"") + (connection.send(h11.Data(data=body)) or b"")
        await _send_all(client, data + (connection.send(h11.EndOfMessage()) or b""))
        return connection.our_state is h11.DONE and connection.their_state is h11.DONE


async def _next_event(client: socket.socket, connection: h11.Connection) -> object:
    while (event := connection.next_event()) is h11.NEED_DATA:
        await anyio.wait_readable(client)
        try:
            data = client.recv(READ_BYTES)
        except (BlockingIOError, InterruptedError):
            continue
        connection.receive_data(data)  # b"" at the end: h11 then reports ConnectionClosed
    return event


async def _send_all(client: socket.socket, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            view = view[client.send(view) :]
        except (BlockingIOError, InterruptedError):
            await anyio.wait_writable(client)
