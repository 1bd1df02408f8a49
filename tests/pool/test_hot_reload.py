"""Hot reload in the warm pool (process executor): code and layers from folders, used in
place, with the environments of a folder retired when a file under it changes."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import anyio
import msgspec
import pytest

from bus.messages import InvocationCompleted, InvocationRejected, InvokeFunction, Reply
from bus.records import FunctionVersion, LayerCode
from bus.settings import Settings
from tests.conftest import RUNTIMES_DIR
from tests.pool.conftest import ACCOUNT, REGION, Harness, running_pool
from workers.context import WorkerContext
from workers.pool import WarmPool

pytestmark = pytest.mark.anyio

APP = """\
import os
VALUE = {value!r}

def handler(event, context):
    return {{"value": VALUE, "pid": os.getpid(), "cwd": os.getcwd()}}
"""
USES_LAYER = """\
import os
import shared

def handler(event, context):
    return {{"value": shared.VALUE, "pid": os.getpid()}}
"""
RELOAD_WAIT_S = 10.0


def folder_function(code: Path, layers: list[LayerCode] | None = None) -> FunctionVersion:
    name = f"fn-{uuid.uuid4().hex[:8]}"
    return FunctionVersion(
        name=name,
        arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
        runtime="python3.12",
        handler="app.handler",
        code_sha256_hex="0" * 64,
        code_folder=str(code),
        layer_code=layers or [],
        revision_id=str(uuid.uuid4()),
        state="Active",
    )


def folder_layer(folder: Path) -> LayerCode:
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{folder.name}:1"
    return LayerCode(arn=arn, code_sha256_hex="1" * 64, code_size=0, folder=str(folder))


def write_app(folder: Path, value: str, source: str = APP) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(source.format(value=value))


def answer(reply: Reply) -> dict[str, Any]:
    assert isinstance(reply, InvocationCompleted), reply
    assert reply.function_error is None, reply.payload
    result: dict[str, Any] = msgspec.json.decode(reply.payload)
    return result


async def reloaded(harness: Harness, before: int) -> None:
    """Wait until the pool has seen a change after `before` reloads."""
    with anyio.fail_after(RELOAD_WAIT_S):
        while harness.pool.reloads.count <= before:  # noqa: ASYNC110 (a counter, no event)
            await anyio.sleep(0.01)


async def test_an_edit_is_seen_by_the_next_invoke(redis, tmp_path: Path) -> None:
    code = tmp_path / "src"
    write_app(code, "one")
    function = folder_function(code)
    async with running_pool(redis, tmp_path / "data") as harness:
        first = answer(await harness.invoke(function))
        assert first["value"] == "one"
        assert first["cwd"] == str(code), "the folder itself is the working directory"
        warm = answer(await harness.invoke(function))
        assert warm["pid"] == first["pid"], "no change: the environment stays warm"
        count = harness.pool.reloads.count
        write_app(code, "two")
        await reloaded(harness, count)
        second = answer(await harness.invoke(function))
        assert second["value"] == "two"
        assert second["pid"] != first["pid"]
    assert not (code / "__pycache__").exists(), "nothing is written into the folder"
    assert not (tmp_path / "data" / "code").exists() or not any((tmp_path / "data/code").iterdir())


async def test_a_burst_of_saves_is_one_reload(redis, tmp_path: Path) -> None:
    code = tmp_path / "src"
    write_app(code, "start")
    function = folder_function(code)
    async with running_pool(redis, tmp_path / "data") as harness:
        first = answer(await harness.invoke(function))
        count = harness.pool.reloads.count
        for save in range(20):
            write_app(code, f"save {save}")
        await reloaded(harness, count)
        await anyio.sleep(0.5)  # any second batch would have come by now
        assert harness.pool.reloads.count == count + 1
        after = answer(await harness.invoke(function))
        assert after["value"] == "save 19"
        again = answer(await harness.invoke(function))
        assert again["pid"] == after["pid"] != first["pid"], "one new environment, kept warm"


async def test_a_busy_environment_retires_after_its_invocation(redis, tmp_path: Path) -> None:
    code = tmp_path / "src"
    slow = "import os, time\nVALUE = {value!r}\n\ndef handler(event, context):\n"
    slow += "    if 'started' in event:\n        open(event['started'], 'w').close()\n"
    slow += "    time.sleep(event.get('sleep', 0))\n"
    slow += "    return {{'value': VALUE, 'pid': os.getpid()}}\n"
    write_app(code, "one", slow)
    function = folder_function(code)
    async with running_pool(redis, tmp_path / "data") as harness:
        answer(await harness.invoke(function))
        count = harness.pool.reloads.count
        started = tmp_path / "started"  # outside the watched folder
        async with anyio.create_task_group() as tasks:
            replies: list[Reply] = []

            async def busy() -> None:
                event = {"sleep": 1, "started": str(started)}
                replies.append(await harness.invoke(function, event))

            tasks.start_soon(busy)
            with anyio.fail_after(RELOAD_WAIT_S):
                while not started.exists():  # noqa: ASYNC110 (the handler's own sign)
                    await anyio.sleep(0.01)
            write_app(code, "two", slow)
            await reloaded(harness, count)
        assert answer(replies[0])["value"] == "one", "the running invocation ends on its code"
        assert answer(await harness.invoke(function))["value"] == "two"


async def test_a_layer_from_a_folder_reloads_the_functions_using_it(redis, tmp_path: Path) -> None:
    layer = tmp_path / "layer"
    (layer / "python").mkdir(parents=True)
    (layer / "python" / "shared.py").write_text("VALUE = 'layer one'\n")
    async with running_pool(redis, tmp_path / "data") as harness:
        zipped = await harness.deploy({"app.py": USES_LAYER.format()})  # the code: a zip
        function = msgspec.structs.replace(zipped, layer_code=[folder_layer(layer)])
        assert answer(await harness.invoke(function))["value"] == "layer one"
        count = harness.pool.reloads.count
        # The same size, within the same second: a .pyc written beside it would hide it.
        (layer / "python" / "shared.py").write_text("VALUE = 'layer two'\n")
        await reloaded(harness, count)
        assert answer(await harness.invoke(function))["value"] == "layer two"
    assert not (layer / "python" / "__pycache__").exists()


async def test_folder_layers_merge_in_order_and_anew_after_an_edit(redis, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for folder, value in ((first, "first"), (second, "second")):
        (folder / "python").mkdir(parents=True)
        (folder / "python" / "shared.py").write_text(f"VALUE = {value!r}\n")
    (first / "python" / "only_first.py").write_text("")
    layers = [folder_layer(first), folder_layer(second)]
    code = tmp_path / "src"
    write_app(code, "", USES_LAYER)
    function = folder_function(code, layers)
    async with running_pool(redis, tmp_path / "data") as harness:
        assert answer(await harness.invoke(function))["value"] == "second", "later layers win"
        count = harness.pool.reloads.count
        (second / "python" / "shared.py").write_text("VALUE = 'second, edited'\n")
        await reloaded(harness, count)
        assert answer(await harness.invoke(function))["value"] == "second, edited"


async def test_a_folder_removed_since_is_named_in_the_error(redis, tmp_path: Path) -> None:
    code = tmp_path / "src"
    function = folder_function(code)
    async with running_pool(redis, tmp_path / "data") as harness:
        reply = await harness.invoke(function)
    assert isinstance(reply, InvocationRejected), reply
    assert reply.error_type == "ServiceException"
    assert reply.message == f"Hot-reload code folder {code} does not exist or is not a directory."


async def test_each_pool_instance_retires_its_own_environments(redis, tmp_path: Path) -> None:
    code = tmp_path / "src"
    write_app(code, "one")
    function = folder_function(code)
    settings = Settings(
        data_dir=str(tmp_path / "data"),
        key_prefix=f"test-{uuid.uuid4().hex[:12]}",
        extension_port=0,
        runtimes_dir=str(RUNTIMES_DIR),
    )
    pools = [WarmPool(WorkerContext.create(settings, redis, f"pool-{n}")) for n in range(2)]

    async def run_on_each() -> list[dict[str, Any]]:
        """One invocation run by each pool itself (not through the stream)."""
        return [answer(await pool.invoke(invocation(function))) for pool in pools]

    async with anyio.create_task_group() as tasks:
        for pool in pools:
            tasks.start_soon(pool.run)
        try:
            with anyio.fail_after(RELOAD_WAIT_S):
                while any(pool._tasks is None for pool in pools):  # noqa: ASYNC110 (running)
                    await anyio.sleep(0.01)
            before = await run_on_each()
            assert before[0]["pid"] != before[1]["pid"], "an environment in each pool"
            write_app(code, "two")
            with anyio.fail_after(RELOAD_WAIT_S):
                while any(pool.reloads.count == 0 for pool in pools):  # noqa: ASYNC110
                    await anyio.sleep(0.01)
            assert [a["value"] for a in await run_on_each()] == ["two", "two"]
        finally:
            tasks.cancel_scope.cancel()
            with anyio.CancelScope(shield=True), anyio.move_on_after(10):
                for pool in pools:
                    await pool.aclose()


def invocation(function: FunctionVersion) -> InvokeFunction:
    return InvokeFunction(
        request_id=str(uuid.uuid4()),
        function=function,
        payload=b"{}",
        reply_to="unused",
        invoked_arn=function.arn,
    )
