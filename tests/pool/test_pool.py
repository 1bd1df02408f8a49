"""The warm pool end to end: real Redis streams, real awslambdaric, node and shell runtimes."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import anyio
import pytest

from bus.messages import InvocationCompleted, InvocationRejected, InvokeFunction, Reply
from tests.pool.conftest import running_pool
from workers.pool.executors.process import NODE_BOOTSTRAP

pytestmark = pytest.mark.anyio

APP = """\
import json, logging, os, subprocess, sys, time

print("init ran")

def handler(event, context):
    action = event.get("action")
    if action == "raise":
        raise ValueError("bad input")
    if action == "exit":
        os._exit(event["status"])
    if action == "kill":
        os.kill(os.getpid(), 9)
    if action == "sleep":
        child = subprocess.Popen(["sleep", "60"])
        with open(event["pidfile"], "w") as f:
            f.write(str(child.pid))
        time.sleep(event["seconds"])
    if action == "big":
        return "x" * event["size"]
    if action == "talk":
        print("line one")
        logging.getLogger().warning("a warning")
        print("x" * event.get("pad", 0))
        sys.stdout.write("last words")
    if action == "environ":
        return dict(os.environ)
    if action == "context":
        return {
            "request_id": context.aws_request_id,
            "arn": context.invoked_function_arn,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "custom": context.client_context.custom if context.client_context else None,
            "trace": os.environ.get("_X_AMZN_TRACE_ID"),
        }
    return {"echo": event, "pid": os.getpid()}
"""


def body(reply: Reply) -> Any:
    assert isinstance(reply, InvocationCompleted), reply
    return json.loads(reply.payload)


def gone(pid: int) -> bool:
    """The process has ended (a zombie nobody reaped counts as ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


async def wait_until(condition: Any, timeout_s: float = 5.0) -> None:
    """Poll: process ends and pool bookkeeping signal nothing a test could wait on."""
    with anyio.fail_after(timeout_s):
        while not condition():  # noqa: ASYNC110
            await anyio.sleep(0.02)


async def test_python_echo_reuses_its_warm_environment(redis, tmp_path):
    async with running_pool(redis, tmp_path) as pool:
        function = await pool.deploy({"app.py": APP})
        first = await pool.invoke(function, {"hello": "world"})
        second = await pool.invoke(function, {"n": 2})
    assert body(first)["echo"] == {"hello": "world"}
    assert isinstance(first, InvocationCompleted)
    assert first.function_error is None
    assert first.executed_version == "$LATEST"
    assert body(second)["pid"] == body(first)["pid"]


async def test_handler_exception_is_an_unhandled_function_error(redis, tmp_path):
    async with running_pool(redis, tmp_path) as pool:
        function = await pool.deploy({"app.py": APP})
        reply = await pool.invoke(function, {"action": "raise"})
        after = await pool.invoke(function, {})
    error = body(reply)
    assert isinstance(reply, InvocationCompleted)
    assert reply.function_error == "Unhandled"
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "bad input"
    assert error["stackTrace"]
    assert body(after)["echo"] == {}


async def test_import_error_is_reported_and_the_next_invoke_inits_again(redis, tmp_path):
    async with running_pool(redis, tmp_path) as pool:
        function = await pool.deploy({"app.py": APP}, handler="missing.handler")
        first = await pool.invoke(function)
        second = await pool.invoke(function)
        await wait_until(lambda: not pool.pool.live)
    for reply in (first, second):
        assert isinstance(reply, InvocationCompleted)
        assert reply.function_error == "Unhandled"
        error = body(reply)
        assert error["errorType"] == "Runtime.ImportModuleError"
        assert error["errorMessage"].startswith("Unable to import module 'missing'")


async def test_timeout_kills_the_process_group_and_next_invoke_starts_fresh(redis, tmp_path):
    pidfile = tmp_path / "child.pid"
    async with running_pool(redis, tmp_path) as pool:
        function = await pool.deploy({"app.py": APP}, timeout_s=1)
        warm_pid = body(await pool.invoke(function))["pid"]
        event = {"action": "sleep", "seconds": 30, "pidfile": str(pidfile)}
        started = time.monotonic()
        reply = await pool.invoke(function, event)
        elapsed = time.monotonic() - started
        fresh_pid = body(await pool.invoke(function))["pid"]
        await wait_until(lambda: gone(warm_pid) and gone(int(pidfile.read_text())))
    assert isinstance(reply, InvocationCompleted)
    assert reply.function_error == "Unhandled"
    assert body(reply) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {reply.request_id} Error: Task timed out after 1.00 seconds",
    }
    assert 0.9 < elapsed < 3
    assert fresh_pid != warm_pid
    assert reply.log_tail is not None
    assert b"Task timed out after 1.00 seconds" in reply.log_tail
    assert b"Status: timeout" in reply.log_tail


async def test_runtime_exit_is_runtime_exit_error(redis, tmp_path):
    async with running_pool(redis, tmp_path) as pool:
        function = await pool.deploy({"app.py": APP})
        exited = await pool.invoke(function, {"action": "exit", "status": 3})
        killed = await pool.invoke(function, {"action": "kill"})
        after = await pool.invoke(function)
    assert isinstance(exited, InvocationCompleted)
    assert exited.function_error == "Unhandled"
    assert body(exited) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {exited.request_id} Error: Runtime exited with error: "
        "exit status 3",
    }
    assert body(killed)["errorMessage"].endswith("Runtime exited with error: signal: killed")
    assert body(after)["echo"] == {}


async def test_response_over_6mb_is_response_size_too_large(redis, tmp_path):
    limit = 6_291_556
    async with running_pool(redis, tmp_path) as pool:
        function = await pool.deploy({"app.py": APP})
        too_big = await pool.invoke(function, {"action": "big", "size": 7 * 1024 * 1024})
        at_limit = await pool.invoke(function, {"action": "big", "size": limit - 2})
        over = await pool.invoke(function, {"action": "big", "size": limit - 1})
    assert isinstance(too_big, InvocationCompleted)
    assert too_big.function_error == "Unhandled"
    assert body(too_big) == {
        "errorType": "Function.ResponseSizeTooLarge",
        "errorMessage": "Response payload size exceeded maximum allowed payload size "
        "(6291556 bytes).",
    }
    assert isinstance(at_limit, InvocationCompleted)
    assert at_limit.function_error is None
    assert len(at_limit.payload) == limit
    assert body(over)["errorType"] == "Function.ResponseSizeTooLarge"


async def test_log_tail_holds_start_output_end_and_report(redis, tmp_path):
    async with running_pool(redis, tmp_path) as pool:
        function = await pool.deploy({"app.py": APP})
        cold = await pool.invoke(function, {"action": "talk"})
        warm = [await pool.invoke(function, {"action": "talk"}) for _ in range(10)]
        long = await pool.invoke(function, {"action": "talk", "pad": 10_000})
        untailed = await pool.invoke(function, {"action": "talk"}, log_tail=False)
    for reply in [cold, *warm]:
        assert isinstance(reply, InvocationCompleted)
        assert reply.log_tail is not None
        lines = reply.log_tail.decode().splitlines()
        rid = reply.request_id
        assert f"START RequestId: {rid} Version: $LATEST" in lines
        assert "line one" in lines
        assert any(line.startswith("[WARNING]") and "a warning" in line for line in lines)
        assert "last words" in lines  # written without a newline just before returning
        assert lines[-2] == f"END RequestId: {rid}"
        assert re.fullmatch(
            rf"REPORT RequestId: {rid}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
            r"Memory Size: 128 MB\tMax Memory Used: \d+ MB\t(Init Duration: \d+\.\d\d ms\t)?",
            lines[-1],
        )
    assert cold.log_tail is not None and b"Init Duration" in cold.log_tail
    assert cold.log_tail.index(b"init ran") < cold.log_tail.index(b"START RequestId")
    assert all(r.log_tail is not None and b"Init Duration" not in r.log_tail for r in warm)
    assert isinstance(long, InvocationCompleted) and long.log_tail is not None
    assert len(long.log_tail) == 4096
    assert long.log_tail.endswith(b"\t\n")
    assert isinstance(untailed, InvocationCompleted) and untailed.log_tail is None


async def test_parallel_invokes_run_in_parallel_environments(redis, tmp_path):
    replies: list[Reply] = []
    async with running_pool(redis, tmp_path) as pool:
        function = await pool.deploy({"app.py": APP}, timeout_s=10)

        async def one(index: int) -> None:
            event = {"action": "sleep", "seconds": 1, "pidfile": str(tmp_path / f"{index}")}
            replies.append(await pool.invoke(function, event))

        started = time.monotonic()
        async with anyio.create_task_group() as tasks:
            for index in range(20):
                tasks.start_soon(one, index)
        elapsed = time.monotonic() - started
        live = len(pool.pool.live)
    assert len(replies) == 20
    assert all(isinstance(r, InvocationCompleted) and not r.function_error for r in replies)
    assert len({body(r)["pid"] for r in replies}) == 20
    assert live == 20
    assert elapsed < 8  # one after another would take 20 s


async def test_over_the_concurrency_cap_is_429_rate_exceeded(redis, tmp_path):
    replies: list[Reply] = []
    async with running_pool(redis, tmp_path, max_environments=2) as pool:
        function = await pool.deploy({"app.py": APP})

        async def one(index: int) -> None:
            event = {"action": "sleep", "seconds": 1, "pidfile": str(tmp_path / f"{index}")}
            replies.append(await pool.invoke(function, event))

        async with anyio.create_task_group() as tasks:
            for index in range(3):
                tasks.start_soon(one, index)
        # At the cap, an idle environment of another function makes room.
        other = await pool.deploy({"app.py": APP})
        elsewhere = await pool.invoke(other)
    rejected = [r for r in replies if isinstance(r, InvocationRejected)]
    assert len(rejected) == 1
    assert (rejected[0].error_type, rejected[0].message) == (
        "TooManyRequestsException",
        "Rate Exceeded.",
    )
    assert rejected[0].status == 429
    assert body(elsewhere)["echo"] == {}


async def test_idle_environments_stop_after_the_keep_alive(redis, tmp_path):
    async with running_pool(redis, tmp_path, keep_alive_s=0.3) as pool:
        function = await pool.deploy({"app.py": APP})
        pid = body(await pool.invoke(function))["pid"]
        await wait_until(lambda: not pool.pool.live and gone(pid))


async def test_a_newer_revision_retires_the_old_environments(redis, tmp_path):
    async with running_pool(redis, tmp_path) as pool:
        old = await pool.deploy({"app.py": APP}, last_modified="2024-01-01T00:00:00.000+0000")
        new = await pool.deploy(
            {"app.py": APP + "\n# v2\n"},
            name=old.name,
            last_modified="2024-01-02T00:00:00.000+0000",
        )
        old_pid = body(await pool.invoke(old))["pid"]
        new_pid = body(await pool.invoke(new))["pid"]
        again_pid = body(await pool.invoke(new))["pid"]
        await wait_until(lambda: gone(old_pid))
    assert new_pid != old_pid
    assert again_pid == new_pid


async def test_runtime_environment_variables_are_aws_s(redis, tmp_path, monkeypatch):
    monkeypatch.setenv("TARN_SECRET_SETTING", "do-not-leak")
    async with running_pool(redis, tmp_path) as pool:
        function = await pool.deploy(
            {"app.py": APP},
            environment={"MY_VAR": "mine", "AWS_REGION": "eu-west-9", "TZ": "Europe/Paris"},
            memory_mb=256,
        )
        environ = body(await pool.invoke(function, {"action": "environ"}))
    task_root = str(tmp_path / "code" / function.code_sha256_hex)
    assert environ["MY_VAR"] == "mine"
    assert environ["AWS_REGION"] == environ["AWS_DEFAULT_REGION"] == "us-east-1"
    assert environ["TZ"] == "Europe/Paris"  # not reserved: a function may set it
    assert environ["AWS_LAMBDA_FUNCTION_NAME"] == function.name
    assert environ["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert environ["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{function.name}"
    assert re.fullmatch(
        r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", environ["AWS_LAMBDA_LOG_STREAM_NAME"]
    )
    assert environ["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert environ["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert environ["LAMBDA_TASK_ROOT"] == task_root
    assert environ["_HANDLER"] == "app.handler"
    assert environ["AWS_LAMBDA_RUNTIME_API"].startswith("127.0.0.1:")
    assert environ["AWS_ACCESS_KEY_ID"] and environ["AWS_SECRET_ACCESS_KEY"]
    assert environ["AWS_SESSION_TOKEN"]
    assert environ["LANG"] == "en_US.UTF-8"
    assert environ["PATH"] == os.environ["PATH"]
    assert task_root in environ["PYTHONPATH"].split(":")
    assert f"{task_root}/lib" in environ["LD_LIBRARY_PATH"].split(":")
    assert not [name for name in environ if name.startswith("TARN_")]


async def test_the_context_carries_request_id_arn_deadline_and_client_context(redis, tmp_path):
    client_context = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    async with running_pool(redis, tmp_path) as pool:
        function = await pool.deploy({"app.py": APP}, timeout_s=7)
        reply = await pool.invoke(function, {"action": "context"}, client_context=client_context)
    context = body(reply)
    assert context["request_id"] == reply.request_id
    assert context["arn"] == function.arn
    assert 6000 < context["remaining_ms"] <= 7000
    assert context["custom"] == {"k": "v"}
    assert context["trace"].startswith("Root=1-")


@pytest.mark.skipif(
    not NODE_BOOTSTRAP.exists() or shutil.which("node") is None,
    reason="the Node.js bootstrap or node is missing",
)
async def test_node_echo(redis, tmp_path):
    code = (
        "export const handler = async (event) => { console.log('hi'); return { echo: event }; };\n"
    )
    async with running_pool(redis, tmp_path) as pool:
        function = await pool.deploy(
            {"index.mjs": code}, runtime="nodejs20.x", handler="index.handler"
        )
        first = await pool.invoke(function, {"n": 1})
        second = await pool.invoke(function, {"n": 2})
    assert body(first) == {"echo": {"n": 1}}
    assert body(second) == {"echo": {"n": 2}}
    assert isinstance(second, InvocationCompleted) and second.log_tail is not None
    assert b"hi" in second.log_tail


SHELL_BOOTSTRAP = """\
#!/bin/bash
set -euo pipefail
api="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
headers="$(mktemp)"
while true; do
  event="$(curl -sS -D "$headers" "$api/invocation/next")"
  request_id="$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$headers" \\
    | cut -d: -f2 | tr -d '[:space:]')"
  echo "shell got $request_id"
  curl -sS -o /dev/null -X POST "$api/invocation/$request_id/response" \\
    -d "{\\"shell\\": true, \\"event\\": $event, \\"handler\\": \\"$_HANDLER\\"}"
done
"""


@pytest.mark.skipif(shutil.which("curl") is None, reason="the shell bootstrap needs curl")
async def test_provided_runtime_runs_the_code_bootstrap(redis, tmp_path):
    async with running_pool(redis, tmp_path) as pool:
        function = await pool.deploy(
            {"bootstrap": SHELL_BOOTSTRAP},
            modes={"bootstrap": 0o755},
            runtime="provided.al2023",
            handler="function.handler",
        )
        first = await pool.invoke(function, {"n": 1})
        second = await pool.invoke(function, {"n": 2})
    assert body(first) == {"shell": True, "event": {"n": 1}, "handler": "function.handler"}
    assert body(second)["event"] == {"n": 2}
    assert isinstance(second, InvocationCompleted) and second.log_tail is not None
    assert f"shell got {second.request_id}".encode() in second.log_tail


async def test_provided_runtime_without_bootstrap_is_invalid_entrypoint(redis, tmp_path):
    async with running_pool(redis, tmp_path) as pool:
        function = await pool.deploy({"main.sh": "echo"}, runtime="provided.al2023")
        reply = await pool.invoke(function)
    assert isinstance(reply, InvocationCompleted)
    assert reply.function_error == "Unhandled"
    error = body(reply)
    assert error["errorType"] == "Runtime.InvalidEntrypoint"
    assert error["errorMessage"].startswith(f"RequestId: {reply.request_id} Error: Couldn't find")


async def test_a_runtime_the_process_executor_lacks_is_rejected(redis, tmp_path):
    async with running_pool(redis, tmp_path) as pool:
        function = await pool.deploy({"app.dll": "not really"}, runtime="dotnet8")
        reply = await pool.invoke(function)
    assert isinstance(reply, InvocationRejected)
    assert reply.error_type == "ServiceException"
    assert "--executor docker" in reply.message


async def test_missing_code_is_rejected_and_leaves_no_environment(redis, tmp_path):
    async with running_pool(redis, tmp_path) as pool:
        function = await pool.deploy({"app.py": APP})
        function.code_sha256_hex = "0" * 64
        first = await pool.invoke(function)
        second = await pool.invoke(function)
        live = len(pool.pool.live)
    assert isinstance(first, InvocationRejected) and isinstance(second, InvocationRejected)
    assert first.error_type == "ServiceException"
    assert live == 0


@pytest.mark.parametrize("anyio_backend", [("asyncio", {"use_uvloop": True})], ids=["uvloop"])
async def test_invocations_under_uvloop_as_the_worker_runs(redis, tmp_path):
    async with running_pool(redis, tmp_path) as pool:
        function = await pool.deploy({"app.py": APP})
        echo = await pool.invoke(function, {"n": 1})
        talk = await pool.invoke(function, {"action": "talk"})
        raised = await pool.invoke(function, {"action": "raise"})
        exited = await pool.invoke(function, {"action": "exit", "status": 4})
        again = await pool.invoke(function, {"n": 2})
    assert body(echo)["echo"] == {"n": 1}
    assert isinstance(talk, InvocationCompleted) and talk.log_tail is not None
    assert b"last words\nEND RequestId" in talk.log_tail
    assert body(raised)["errorType"] == "ValueError"
    assert body(exited)["errorMessage"].endswith("exit status 4")
    assert body(again)["echo"] == {"n": 2}


async def test_an_event_offered_to_an_environment_that_died_idle_runs_on_a_fresh_one(
    redis, tmp_path
):
    async with running_pool(redis, tmp_path) as pool:
        function = await pool.deploy({"app.py": APP})
        pid = body(await pool.invoke(function))["pid"]
        os.kill(pid, 9)
        # Block the loop while it dies, then go straight into the pool: the environment is
        # dead before the pool has processed its exit.
        time.sleep(0.2)  # noqa: ASYNC251
        command = InvokeFunction(
            request_id="r-1",
            function=function,
            payload=b'{"n": 1}',
            reply_to="unused",
            invoked_arn=function.arn,
        )
        reply = await pool.pool.invoke(command)
    assert body(reply)["echo"] == {"n": 1}
    assert body(reply)["pid"] != pid
