"""Tests for the Node.js runtime bootstrap (workers/pool/runtimes/nodejs/bootstrap.mjs).

Each test writes a small function into a temporary task root, starts the
bootstrap under `node` against a minimal Runtime API served from a thread of
this process, hands it invocations and checks what it posts back and what it
logs. The bootstrap's stdout goes to a file, and the fake API snapshots that
file whenever a POST arrives, which shows what had been logged before the
result was posted.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

NODE = shutil.which("node")
if NODE is None:
    pytest.skip("node is not on PATH: cannot run the Node.js bootstrap", allow_module_level=True)

BOOTSTRAP = (
    Path(__file__).resolve().parents[2]
    / "workers"
    / "pool"
    / "runtimes"
    / "nodejs"
    / "bootstrap.mjs"
)
API = "/2018-06-01/runtime"
TIMEOUT = 10.0
TIMESTAMP = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:test-fn"


@dataclass
class Post:
    kind: str  # "response", "error" or "init_error"
    request_id: str | None
    headers: dict[str, str]
    body: bytes
    stdout_at_post: str  # the bootstrap's stdout when this POST arrived

    def json(self) -> Any:
        return json.loads(self.body)


class FakeRuntimeAPI:
    """The Runtime API, just enough of it: queued invocations out, posts recorded."""

    def __init__(self, stdout_path: Path) -> None:
        self._stdout_path = stdout_path
        self._invocations: queue.Queue[tuple[bytes, dict[str, str]]] = queue.Queue()
        self._posts: queue.Queue[Post] = queue.Queue()
        self._closed = threading.Event()
        self.connections = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.server.daemon_threads = True
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def address(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host}:{port}"

    def add_invocation(
        self,
        event: Any,
        *,
        deadline_in_ms: int = 30_000,
        client_context: Any = None,
        identity: Any = None,
        trace_id: str | None = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
    ) -> str:
        request_id = str(uuid.uuid4())
        headers = {
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + deadline_in_ms),
            "Lambda-Runtime-Invoked-Function-Arn": FUNCTION_ARN,
        }
        if trace_id is not None:
            headers["Lambda-Runtime-Trace-Id"] = trace_id
        if client_context is not None:
            headers["Lambda-Runtime-Client-Context"] = json.dumps(client_context)
        if identity is not None:
            headers["Lambda-Runtime-Cognito-Identity"] = json.dumps(identity)
        self._invocations.put((json.dumps(event).encode(), headers))
        return request_id

    def next_post(self, timeout: float = TIMEOUT) -> Post:
        try:
            return self._posts.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"the bootstrap posted nothing within {timeout}s") from None

    def assert_no_post(self, within: float) -> None:
        try:
            post = self._posts.get(timeout=within)
        except queue.Empty:
            return
        raise AssertionError(f"unexpected post: {post}")

    def close(self) -> None:
        self._closed.set()
        self.server.shutdown()
        self.server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the real Runtime API
            # Headers and body are separate writes: without this, Nagle's
            # algorithm and delayed ACKs add ~40 ms to every reply.
            disable_nagle_algorithm = True

            def setup(self) -> None:
                super().setup()
                api.connections += 1

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path != f"{API}/invocation/next":
                    self._reply(404, b'{"errorMessage":"not found"}')
                    return
                # Block like the real API until there is work, polling so a
                # closed server releases the thread.
                while not api._closed.is_set():
                    try:
                        body, headers = api._invocations.get(timeout=0.2)
                    except queue.Empty:
                        continue
                    self._reply(200, body, headers)
                    return
                self.close_connection = True

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                match = re.fullmatch(rf"{API}/invocation/([^/]+)/(response|error)", self.path)
                if match:
                    kind, request_id = match.group(2), match.group(1)
                elif self.path == f"{API}/init/error":
                    kind, request_id = "init_error", None
                else:
                    self._reply(404, b'{"errorMessage":"not found"}')
                    return
                # Bytes, not read_text(): universal newlines would turn \r into \n.
                snapshot = api._stdout_path.read_bytes().decode("utf-8", errors="replace")
                api._posts.put(Post(kind, request_id, dict(self.headers), body, snapshot))
                self._reply(202, b'{"status":"OK"}')

            def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        return Handler


@dataclass
class Runtime:
    proc: subprocess.Popen[bytes]
    api: FakeRuntimeAPI
    stdout_path: Path
    stderr_path: Path

    def stdout(self) -> str:
        return self.stdout_path.read_bytes().decode("utf-8")

    def log_lines(self) -> list[str]:
        # Split on \n only: AWS turns newlines inside a message into \r.
        return [line for line in self.stdout().split("\n") if line]

    def wait_exit(self, timeout: float = TIMEOUT) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the bootstrap did not exit within {timeout}s") from None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=TIMEOUT)
        self.api.close()


@pytest.fixture
def start(tmp_path: Path):
    """start(files, handler) -> Runtime: the bootstrap running the given task files."""
    started: list[Runtime] = []

    def _start(files: dict[str, str], handler: str = "index.handler") -> Runtime:
        task = tmp_path / "task"
        for name, text in files.items():
            path = task / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        task.mkdir(exist_ok=True)
        stdout_path = tmp_path / "stdout.log"
        stderr_path = tmp_path / "stderr.log"
        stdout_path.touch()
        api = FakeRuntimeAPI(stdout_path)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "AWS_LAMBDA_RUNTIME_API": api.address,
            "_HANDLER": handler,
            "LAMBDA_TASK_ROOT": str(task),
            "AWS_LAMBDA_FUNCTION_NAME": "test-fn",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/test-fn",
            "AWS_LAMBDA_LOG_STREAM_NAME": "2024/01/01/[$LATEST]0123456789abcdef",
        }
        with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
            proc = subprocess.Popen(
                [NODE, str(BOOTSTRAP)], cwd=task, env=env, stdout=out, stderr=err
            )
        runtime = Runtime(proc, api, stdout_path, stderr_path)
        started.append(runtime)
        return runtime

    yield _start
    for runtime in started:
        runtime.stop()


def invoke(runtime: Runtime, event: Any, **kwargs: Any) -> Post:
    """Queues one invocation and returns what the bootstrap posted for it."""
    request_id = runtime.api.add_invocation(event, **kwargs)
    post = runtime.api.next_post()
    assert post.request_id == request_id, post
    return post


def init_error(runtime: Runtime) -> Post:
    post = runtime.api.next_post()
    assert post.kind == "init_error", post
    assert runtime.wait_exit() == 129
    return post


# --- loading the handler -----------------------------------------------------

ECHO_EVENT = {"msg": "héllo ☃ 🚀", "n": [1, 2.5, None, True]}


@pytest.mark.parametrize(
    ("files", "handler"),
    [
        pytest.param(
            {"index.js": "exports.handler = async (event) => ({ echo: event });"},
            "index.handler",
            id="cjs-exports",
        ),
        pytest.param(
            {"index.mjs": "export const handler = async (event) => ({ echo: event });"},
            "index.handler",
            id="esm-mjs",
        ),
        pytest.param(
            {
                "package.json": '{"type": "module"}',
                "index.js": "export const handler = async (event) => ({ echo: event });",
            },
            "index.handler",
            id="esm-js-type-module",
        ),
        pytest.param(
            {"index.cjs": "module.exports.handler = async (event) => ({ echo: event });"},
            "index.handler",
            id="cjs-extension",
        ),
        pytest.param(
            {"src/app.js": "exports.handlers = { echo: async (event) => ({ echo: event }) };"},
            "src/app.handlers.echo",
            id="subdir-and-nested-export",
        ),
    ],
)
def test_async_handler_echoes_event(start, files: dict[str, str], handler: str) -> None:
    runtime = start(files, handler)
    post = invoke(runtime, ECHO_EVENT)
    assert post.kind == "response"
    assert post.headers["Content-Type"] == "application/json"
    assert post.json() == {"echo": ECHO_EVENT}


def test_js_is_preferred_over_mjs(start) -> None:
    runtime = start(
        {
            "index.js": "exports.handler = async () => 'js';",
            "index.mjs": "export const handler = async () => 'mjs';",
        }
    )
    assert invoke(runtime, {}).json() == "js"


def test_missing_module_is_import_module_error(start) -> None:
    runtime = start({}, "index.handler")
    post = init_error(runtime)
    assert post.headers["Lambda-Runtime-Function-Error-Type"] == "Runtime.ImportModuleError"
    body = post.json()
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"].startswith("Error: Cannot find module 'index'\nRequire stack:\n- ")
    assert body["trace"][0].startswith("Runtime.ImportModuleError: Error: Cannot find module")
    # Logged like AWS, before the first request: request id "undefined".
    assert re.search(
        rf"^{TIMESTAMP}\tundefined\tERROR\tUncaught Exception \t\{{\"errorType\":"
        r"\"Runtime.ImportModuleError\"",
        post.stdout_at_post,
        re.MULTILINE,
    )


def test_missing_dependency_of_cjs_module_is_import_module_error(start) -> None:
    runtime = start({"index.js": "require('no-such-package'); exports.handler = async () => 1;"})
    body = init_error(runtime).json()
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"].startswith("Error: Cannot find module 'no-such-package'")


def test_missing_export_is_handler_not_found(start) -> None:
    runtime = start({"index.js": "exports.other = async () => 1;"})
    post = init_error(runtime)
    assert post.headers["Lambda-Runtime-Function-Error-Type"] == "Runtime.HandlerNotFound"
    body = post.json()
    assert body["errorType"] == "Runtime.HandlerNotFound"
    assert body["errorMessage"] == "index.handler is undefined or not exported"


def test_export_that_is_not_a_function_is_handler_not_found(start) -> None:
    runtime = start({"index.mjs": "export const handler = 42;"})
    body = init_error(runtime).json()
    assert body["errorType"] == "Runtime.HandlerNotFound"
    assert body["errorMessage"] == "index.handler is not a function"


def test_malformed_handler_name(start) -> None:
    runtime = start({"index.js": "exports.handler = async () => 1;"}, "index")
    body = init_error(runtime).json()
    assert body["errorType"] == "Runtime.MalformedHandlerName"
    assert body["errorMessage"] == "Bad handler"


@pytest.mark.parametrize(
    "files",
    [
        pytest.param({"index.js": "exports.handler = async () => {"}, id="cjs"),
        pytest.param({"index.mjs": "export const handler = async () => }"}, id="esm"),
    ],
)
def test_syntax_error_is_user_code_syntax_error(start, files: dict[str, str]) -> None:
    runtime = start(files)
    post = init_error(runtime)
    assert post.headers["Lambda-Runtime-Function-Error-Type"] == "Runtime.UserCodeSyntaxError"
    body = post.json()
    assert body["errorType"] == "Runtime.UserCodeSyntaxError"
    assert body["errorMessage"].startswith("SyntaxError: ")


def test_exception_at_module_top_level_keeps_its_type(start) -> None:
    runtime = start({"index.js": "throw new TypeError('bad init');"})
    post = init_error(runtime)
    assert post.headers["Lambda-Runtime-Function-Error-Type"] == "TypeError"
    body = post.json()
    assert body["errorType"] == "TypeError"
    assert body["errorMessage"] == "bad init"
    assert body["trace"][0] == "TypeError: bad init"


# --- calling the handler ------------------------------------------------------


def test_callback_handler(start) -> None:
    runtime = start(
        {
            "index.js": """
            exports.handler = (event, context, callback) => {
              setTimeout(() => callback(null, { got: event.n * 2 }), 5);
            };
            """
        }
    )
    post = invoke(runtime, {"n": 21})
    assert post.kind == "response"
    assert post.json() == {"got": 42}


def test_legacy_context_succeed(start) -> None:
    runtime = start({"index.js": "exports.handler = (e, context) => { context.succeed('ok'); };"})
    assert invoke(runtime, {}).json() == "ok"


def test_undefined_result_is_null(start) -> None:
    runtime = start({"index.mjs": "export const handler = async () => undefined;"})
    post = invoke(runtime, {})
    assert post.kind == "response"
    assert post.body == b"null"


def test_sync_handler_that_never_reports_succeeds_with_null(start) -> None:
    runtime = start({"index.js": "exports.handler = (event) => { console.log('sync'); };"})
    post = invoke(runtime, {})
    assert post.kind == "response"
    assert post.body == b"null"


def test_async_handler_that_never_settles_is_node_js_exit(start) -> None:
    runtime = start({"index.mjs": "export const handler = async () => new Promise(() => {});"})
    post = invoke(runtime, {})
    assert post.kind == "error"
    assert post.json()["errorType"] == "Runtime.NodeJsExit"
    # The process carries on with the next invocation.
    assert invoke(runtime, {}).json()["errorType"] == "Runtime.NodeJsExit"


def test_callback_waits_for_empty_event_loop_unless_told_not_to(start) -> None:
    runtime = start(
        {
            "index.js": """
            exports.handler = (event, context, callback) => {
              context.callbackWaitsForEmptyEventLoop = event.wait;
              setTimeout(() => console.log('timer fired'), 300);
              callback(null, 'done');
            };
            """
        }
    )
    waited = invoke(runtime, {"wait": True})
    assert waited.json() == "done"
    assert waited.stdout_at_post.count("timer fired") == 1
    not_waited = invoke(runtime, {"wait": False})
    assert not_waited.json() == "done"
    assert not_waited.stdout_at_post.count("timer fired") == 1


def test_context_fields(start) -> None:
    runtime = start(
        {
            "index.js": """
            exports.handler = async (event, context) => ({
              remaining: context.getRemainingTimeInMillis(),
              awsRequestId: context.awsRequestId,
              functionName: context.functionName,
              functionVersion: context.functionVersion,
              memoryLimitInMB: context.memoryLimitInMB,
              invokedFunctionArn: context.invokedFunctionArn,
              logGroupName: context.logGroupName,
              logStreamName: context.logStreamName,
              clientContext: context.clientContext,
              identity: context.identity,
              waits: context.callbackWaitsForEmptyEventLoop,
              traceId: process.env._X_AMZN_TRACE_ID,
              json: JSON.parse(JSON.stringify(context)),
            });
            """
        }
    )
    client_context = {"client": {"app_title": "demo"}, "custom": {"k": "v"}, "env": {}}
    identity = {"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"}
    request_id = runtime.api.add_invocation(
        {}, deadline_in_ms=30_000, client_context=client_context, identity=identity
    )
    post = runtime.api.next_post()
    assert post.request_id == request_id
    got = post.json()
    assert 0 < got["remaining"] <= 30_000
    assert got["awsRequestId"] == request_id
    assert got["functionName"] == "test-fn"
    assert got["functionVersion"] == "$LATEST"
    assert got["memoryLimitInMB"] == "256"
    assert got["invokedFunctionArn"] == FUNCTION_ARN
    assert got["logGroupName"] == "/aws/lambda/test-fn"
    assert got["logStreamName"] == "2024/01/01/[$LATEST]0123456789abcdef"
    assert got["clientContext"] == client_context
    assert got["identity"] == identity
    assert got["waits"] is True
    assert got["traceId"] == "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
    # What JSON.stringify(context) shows on AWS, in the same key order.
    assert list(got["json"]) == [
        "callbackWaitsForEmptyEventLoop",
        "functionVersion",
        "functionName",
        "memoryLimitInMB",
        "logGroupName",
        "logStreamName",
        "clientContext",
        "identity",
        "invokedFunctionArn",
        "awsRequestId",
    ]


def test_context_without_optional_headers(start) -> None:
    runtime = start(
        {
            "index.js": """
            exports.handler = async (event, context) => ({
              clientContext: context.clientContext === undefined,
              identity: context.identity === undefined,
              traceId: process.env._X_AMZN_TRACE_ID === undefined,
            });
            """
        }
    )
    got = invoke(runtime, {}, trace_id=None).json()
    assert got == {"clientContext": True, "identity": True, "traceId": True}


# --- errors -------------------------------------------------------------------


def test_thrown_error(start) -> None:
    runtime = start({"index.js": "exports.handler = async () => { throw new Error('boom'); };"})
    post = invoke(runtime, {})
    assert post.kind == "error"
    assert post.headers["Lambda-Runtime-Function-Error-Type"] == "Error"
    body = post.json()
    assert list(body) == ["errorType", "errorMessage", "trace"]
    assert body["errorType"] == "Error"
    assert body["errorMessage"] == "boom"
    assert body["trace"][0] == "Error: boom"
    assert "index.js:1:" in body["trace"][1]
    # The "Invoke Error" log line is out before the error is posted.
    match = re.search(
        rf"^{TIMESTAMP}\t{post.request_id}\tERROR\tInvoke Error \t(.*)$",
        post.stdout_at_post,
        re.MULTILINE,
    )
    assert match, post.stdout_at_post
    logged = json.loads(match.group(1))
    assert logged["errorType"] == "Error"
    assert logged["errorMessage"] == "boom"
    assert logged["stack"][0] == "Error: boom"


def test_custom_error_name_is_the_error_type(start) -> None:
    runtime = start(
        {
            "index.mjs": """
            class ValidationError extends Error {
              constructor(message) { super(message); this.name = 'ValidationError'; }
            }
            export const handler = async () => { throw new ValidationError('no'); };
            """
        }
    )
    post = invoke(runtime, {})
    assert post.headers["Lambda-Runtime-Function-Error-Type"] == "ValidationError"
    assert post.json()["errorType"] == "ValidationError"


def test_callback_with_string_error(start) -> None:
    runtime = start({"index.js": "exports.handler = (e, ctx, callback) => callback('x');"})
    post = invoke(runtime, {})
    assert post.kind == "error"
    assert post.headers["Lambda-Runtime-Function-Error-Type"] == "string"
    assert post.json() == {"errorType": "string", "errorMessage": "x", "trace": []}


def test_unhandled_rejection_fails_the_invocation_and_exits(start) -> None:
    runtime = start(
        {
            "index.js": """
            exports.handler = async () => {
              Promise.reject(new Error('late'));
              await new Promise((resolve) => setTimeout(resolve, 1000));
              return 'too late';
            };
            """
        }
    )
    post = invoke(runtime, {})
    assert post.kind == "error"
    body = post.json()
    assert body["errorType"] == "Runtime.UnhandledPromiseRejection"
    assert body["errorMessage"] == "Error: late"
    assert runtime.wait_exit() == 128
    assert "\tERROR\tUnhandled Promise Rejection \t{" in runtime.stdout()


def test_uncaught_exception_fails_the_invocation_and_exits(start) -> None:
    runtime = start(
        {
            "index.js": """
            exports.handler = (event, context, callback) => {
              setTimeout(() => { throw new RangeError('kaboom'); }, 5);
            };
            """
        }
    )
    post = invoke(runtime, {})
    assert post.kind == "error"
    assert post.json()["errorType"] == "RangeError"
    assert post.json()["errorMessage"] == "kaboom"
    assert runtime.wait_exit() == 129


# --- logging and the loop -----------------------------------------------------


def test_console_output_format(start) -> None:
    runtime = start(
        {
            "index.js": """
            console.log('loading');
            exports.handler = async () => {
              console.log('hello %s', 'world');
              console.info('info', { a: 1 });
              console.warn('careful');
              console.error('bad');
              console.debug('dbg');
              console.trace('trc');
              console.log('two\\nlines');
              return 'ok';
            };
            """
        }
    )
    post = invoke(runtime, {})
    assert post.json() == "ok"
    rid = post.request_id
    expected = [
        ("undefined", "INFO", "loading"),
        (rid, "INFO", "hello world"),
        (rid, "INFO", "info { a: 1 }"),
        (rid, "WARN", "careful"),
        (rid, "ERROR", "bad"),
        (rid, "DEBUG", "dbg"),
        (rid, "TRACE", "trc"),
        (rid, "INFO", "two\rlines"),
    ]
    # All of it is on stdout before the response is posted.
    lines = [line for line in post.stdout_at_post.split("\n") if line]
    assert len(lines) == len(expected), lines
    for line, (request_id, level, message) in zip(lines, expected, strict=True):
        timestamp, *rest = line.split("\t")
        assert re.fullmatch(TIMESTAMP, timestamp), line
        assert rest == [request_id, level, message]


def test_two_sequential_invocations_on_one_process(start) -> None:
    runtime = start(
        {
            "index.js": """
            let count = 0;
            exports.handler = async (event, context) => {
              count += 1;
              console.log('event', event.n);
              return { n: event.n, count, id: context.awsRequestId };
            };
            """
        }
    )
    first = invoke(runtime, {"n": 1})
    second = invoke(runtime, {"n": 2})
    assert first.json() == {"n": 1, "count": 1, "id": first.request_id}
    assert second.json() == {"n": 2, "count": 2, "id": second.request_id}
    assert first.request_id != second.request_id
    logs = [line.split("\t")[1:] for line in runtime.log_lines()]
    assert [first.request_id, "INFO", "event 1"] in logs
    assert [second.request_id, "INFO", "event 2"] in logs
    # Everything went over one kept-alive connection.
    assert runtime.api.connections == 1
    assert runtime.proc.poll() is None


def test_many_invocations_stay_fast(start) -> None:
    runtime = start({"index.mjs": "export const handler = async (event) => event;"})
    invoke(runtime, 0)  # warm up
    began = time.perf_counter()
    for n in range(1, 201):
        assert invoke(runtime, n).json() == n
    elapsed = time.perf_counter() - began
    # Generous: the bootstrap's own share is well under 1 ms per invocation;
    # most of this is the Python server.
    assert elapsed < 10, elapsed
    assert runtime.api.connections == 1
