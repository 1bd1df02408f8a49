"""One contract every runtime's test function keeps, checked the same way for each language.

A test function answers by `event["action"]`: echo (default), context, environ, raise (an
Error "bad input"), sleep (`seconds`); its init fails when TARN_TEST_INIT_FAIL is set.
"""

from __future__ import annotations

import json
from typing import Any

import anyio

from bus.messages import InvocationCompleted, Reply
from bus.records import FunctionVersion
from tests.conftest import RUNTIMES_DIR
from tests.pool.conftest import Harness
from workers.pool.interpreters import LocalRuntimes


async def prepare(runtime: str) -> None:
    """Set the runtime up (an environment, a compiled client) as provisioning does at create,
    so that the first invoke does not wait for it."""
    await anyio.to_thread.run_sync(LocalRuntimes(RUNTIMES_DIR).interpreter, runtime)


def body(reply: Reply) -> Any:
    assert isinstance(reply, InvocationCompleted), reply
    return json.loads(reply.payload)


def log_tail(reply: Reply) -> str:
    assert isinstance(reply, InvocationCompleted), reply
    return (reply.log_tail or b"").decode()


async def check_invocations(
    pool: Harness, function: FunctionVersion, *, stack_trace: bool = True
) -> None:
    """Echo, context fields, environment, and a handler error in AWS's shape (with a
    stackTrace unless the runtime client sends none, as Rust's lambda_runtime)."""
    event = {"hello": "world", "n": [1, 2.5, True, None]}
    echoed = await pool.invoke(function, event)
    assert isinstance(echoed, InvocationCompleted)
    assert echoed.function_error is None, body(echoed)
    assert body(echoed) == event

    context = body(await pool.invoke(function, {"action": "context"}))
    assert context["function_name"] == function.name
    assert context["request_id"]
    assert context["arn"] == function.arn
    assert 0 < context["remaining_ms"] <= function.timeout_s * 1000
    assert context["memory"] in (function.memory_mb, str(function.memory_mb))

    environ = body(await pool.invoke(function, {"action": "environ"}))
    assert environ["AWS_LAMBDA_FUNCTION_NAME"] == function.name
    assert environ["GREETING"] == "hi"

    failed = await pool.invoke(function, {"action": "raise"})
    assert isinstance(failed, InvocationCompleted)
    assert failed.function_error == "Unhandled"
    error = body(failed)
    assert error["errorMessage"] == "bad input"
    assert error["errorType"]
    if stack_trace:
        assert isinstance(error["stackTrace"], list) and error["stackTrace"]


async def check_init_error(pool: Harness, function: FunctionVersion) -> dict[str, Any]:
    reply = await pool.invoke(function, {})
    assert isinstance(reply, InvocationCompleted)
    assert reply.function_error == "Unhandled"
    error = body(reply)
    assert "init failed" in error["errorMessage"], error
    return dict(error)


async def check_timeout(pool: Harness, function: FunctionVersion) -> None:
    reply = await pool.invoke(function, {"action": "sleep", "seconds": 30})
    assert isinstance(reply, InvocationCompleted)
    assert reply.function_error == "Unhandled"
    assert body(reply)["errorType"] == "Sandbox.Timedout"
    after = await pool.invoke(function, {"again": 1})
    assert body(after) == {"again": 1}
