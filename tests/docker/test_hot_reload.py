"""Hot reload with the Docker executor: the folder bind-mounted read-only at /var/task, folder
layers at /opt (merged in order), and a new container after a change."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis

from tests.docker.conftest import docker_pool
from tests.docker.images.build import StandIns
from tests.pool.test_hot_reload import answer, folder_function, folder_layer, reloaded, write_app

pytestmark = pytest.mark.anyio

APP = """\
import os
VALUE = {value!r}
BOOT = os.urandom(8).hex()  # one per container (the network is the host's: no own hostname)

def handler(event, context):
    try:
        open("/var/task/written", "w").close()
        writable = True
    except OSError:
        writable = False
    with open("/opt/python/shared.py") as layer:
        shared = layer.read().strip()
    return {{"value": VALUE, "boot": BOOT, "cwd": os.getcwd(),
             "writable": writable, "shared": shared}}
"""


async def test_a_folder_runs_read_only_at_var_task_and_reloads(
    redis: Redis, tmp_path: Path, stand_ins: StandIns
) -> None:
    code = tmp_path / "src"
    write_app(code, "one", APP)
    layers = []
    for name in ("first", "second"):
        layer = tmp_path / name
        (layer / "python").mkdir(parents=True)
        (layer / "python" / "shared.py").write_text(f"# {name}\n")
        layers.append(folder_layer(layer))
    function = folder_function(code, layers)
    async with docker_pool(redis, tmp_path / "data", stand_ins) as harness:
        first = answer(await harness.invoke(function))
        assert first["value"] == "one"
        assert first["cwd"] == "/var/task"
        assert first["writable"] is False, "the folder is mounted read-only"
        assert first["shared"] == "# second", "folder layers merge in order at /opt"
        count = harness.pool.reloads.count
        for save in range(20):
            write_app(code, f"save {save}", APP)
        await reloaded(harness, count)
        after = answer(await harness.invoke(function))
        assert after["value"] == "save 19"
        assert after["boot"] != first["boot"], "a new container"
        again = answer(await harness.invoke(function))
        assert again["boot"] == after["boot"], "a burst of saves is one reload"
        assert harness.pool.reloads.count == count + 1
        count = harness.pool.reloads.count
        (tmp_path / "first" / "python" / "shared.py").write_text("# first, edited\n")
        (tmp_path / "second" / "python" / "shared.py").unlink()
        await reloaded(harness, count)
        assert answer(await harness.invoke(function))["shared"] == "# first, edited"
    assert not (code / "written").exists()
