"""`tarn run --stay-open`: the Invoke API of one function, answered for the AWS CLI, curl and
httpx as docker-lambda's DOCKER_LAMBDA_STAY_OPEN answers them; `--watch` reloads on changes."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.cli.test_run import run_env
from tests.conftest import free_port
from tests.waiting import wait_for

APP = """\
import json

VERSION = 1
COUNT = 0

def handler(event, context):
    global COUNT
    COUNT += 1
    print("event", json.dumps(event))
    if event.get("fail"):
        raise RuntimeError("asked to fail")
    custom = context.client_context.custom if context.client_context else None
    return {"count": COUNT, "version": VERSION, "event": event, "custom": custom}
"""
AWS = Path(sys.executable).parent / "aws"


@dataclass
class StayOpen:
    url: str
    folder: Path
    log: Path
    process: subprocess.Popen[bytes]

    def invoke(
        self, payload: object = None, name: str = "myfunction", **headers: str
    ) -> httpx.Response:
        body = b"" if payload is None else json.dumps(payload).encode()
        url = f"{self.url}/2015-03-31/functions/{name}/invocations"
        return httpx.post(url, content=body, headers=headers, timeout=30)

    def reloads(self) -> int:
        return self.log.read_text().count("changed: reloading")


@contextmanager
def stay_open(folder: Path, *args: str, **env: str) -> Iterator[StayOpen]:
    """`tarn run ARGS` on a free port (DOCKER_LAMBDA_API_PORT), until the test ends."""
    port = free_port()
    log = folder.parent / f"{folder.name}.log"
    env |= {"DOCKER_LAMBDA_API_PORT": str(port), "PYTHONPATH": str(Path(__file__).parents[2])}
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "run", *args],
            cwd=folder,
            env=run_env(**env),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    running = StayOpen(f"http://127.0.0.1:{port}", folder, log, process)
    try:
        wait_for(lambda: "tarn: serving " in log.read_text() or process.poll() is not None, 30)
        assert process.poll() is None, log.read_text()
        yield running
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0, log.read_text()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StayOpen]:
    folder = tmp_path_factory.mktemp("stay-open") / "fn"
    folder.mkdir()
    (folder / "app.py").write_text(APP)
    # docker-lambda's variables: stay open, with this handler
    with stay_open(folder, DOCKER_LAMBDA_STAY_OPEN="1", _HANDLER="app.handler") as running:
        yield running


def test_the_aws_cli_invokes_it_unsigned(server: StayOpen, tmp_path: Path) -> None:
    if not AWS.exists():
        pytest.skip(f"the AWS CLI is not installed beside {sys.executable}")
    out = tmp_path / "out.json"
    command = [str(AWS), "lambda", "invoke", "--endpoint", server.url, "--no-sign-request"]
    command += ["--function-name", "myfunction", str(out)]
    env = run_env(AWS_DEFAULT_REGION="us-east-1")
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
    assert json.loads(out.read_text())["event"] == {}  # no payload is {}, as on AWS


def test_curl_invokes_it_with_any_function_name(server: StayOpen) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    url = f"{server.url}/2015-03-31/functions/anything/invocations"
    done = subprocess.run(
        ["curl", "-sS", "-d", '{"via": "curl"}', url], capture_output=True, text=True, timeout=30
    )
    assert json.loads(done.stdout)["event"] == {"via": "curl"}, done.stderr


def test_it_stays_warm_between_calls(server: StayOpen) -> None:
    first = server.invoke({}).json()["count"]
    assert server.invoke({}).json()["count"] == first + 1


def test_tail_client_context_and_function_errors_as_invoke_returns_them(server: StayOpen) -> None:
    context = base64.b64encode(json.dumps({"custom": {"user": "ada"}}).encode()).decode()
    answer = server.invoke({"n": 1}, **{"X-Amz-Log-Type": "Tail", "X-Amz-Client-Context": context})
    assert answer.status_code == 200
    assert answer.json()["custom"] == {"user": "ada"}
    log = base64.b64decode(answer.headers["X-Amz-Log-Result"]).decode()
    request_id = answer.headers["X-Amzn-RequestId"]
    assert f"START RequestId: {request_id}" in log and 'event {"n": 1}' in log
    assert f"REPORT RequestId: {request_id}" in log
    failed = server.invoke({"fail": True})
    assert failed.status_code == 200
    assert failed.headers["X-Amz-Function-Error"] == "Unhandled"
    assert failed.json()["errorMessage"] == "asked to fail"


def test_event_and_dry_run_invocation_types(server: StayOpen) -> None:
    queued = server.invoke({"queued": 1}, **{"X-Amz-Invocation-Type": "Event"})
    assert (queued.status_code, queued.content) == (202, b"")
    wait_for(lambda: 'event {"queued": 1}' in server.log.read_text(), 10, "the Event invocation")
    dry = server.invoke({"dry": 1}, **{"X-Amz-Invocation-Type": "DryRun"})
    assert dry.status_code == 204
    assert server.invoke("not json{", **{"X-Amz-Invocation-Type": "DryRun"}).status_code == 204
    bad = httpx.post(f"{server.url}/2015-03-31/functions/f/invocations", content=b"{nope")
    assert bad.status_code == 400
    assert bad.headers["X-Amzn-ErrorType"] == "InvalidRequestContentException"


def test_watch_reloads_on_a_change_and_a_burst_of_saves_is_one_reload(tmp_path: Path) -> None:
    folder = tmp_path / "fn"
    folder.mkdir()
    (folder / "app.py").write_text(APP)
    with stay_open(folder, "--watch", "app.handler") as running:
        assert running.invoke({}).json()["version"] == 1
        for save in range(20):
            (folder / "app.py").write_text(APP.replace("VERSION = 1", f"VERSION = {save + 2}"))
        wait_for(lambda: running.reloads() >= 1, 10, "a reload")
        time.sleep(0.5)  # a second reload, if the burst were split, would come by now
        assert running.reloads() == 1, running.log.read_text()
        assert running.invoke({}).json() | {"event": None} == {
            "count": 1,
            "version": 21,
            "event": None,
            "custom": None,
        }
        # The same size, saved within the same second: no stale .pyc answers.
        saved = (folder / "app.py").stat()
        (folder / "app.py").write_text(APP.replace("VERSION = 1", "VERSION = 22"))
        os.utime(folder / "app.py", ns=(saved.st_atime_ns, saved.st_mtime_ns))
        wait_for(lambda: running.reloads() == 2, 10, "the second reload")
        assert running.invoke({}).json()["version"] == 22
