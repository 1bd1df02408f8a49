"""Ctrl-C on `tarn up` in the middle of an invocation, and `tarn up` again on the same port at
once: no traceback on the way out, no "port in use" on the way back in."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path

from tests.conftest import start_stack
from tests.functions import create_python_function, unique_name
from tests.waiting import wait_for

# It marks its start in the file the event names (the process executor runs it on this machine).
SLOW = (
    "import pathlib, time\n"
    "def handler(event, context):\n"
    "    pathlib.Path(event['started']).touch()\n"
    "    time.sleep(20)\n"
    "    return 'late'\n"
)


def test_ctrl_c_during_an_invoke_then_start_again_on_the_same_port(tmp_path: Path) -> None:
    log = tmp_path / "tarn.log"
    stack = start_stack(tmp_path / "data", log)
    port = stack.url.rsplit(":", 1)[1]
    name = unique_name("slow")
    create_python_function(stack.client(), name, SLOW, Timeout=30)
    client = stack.client()
    started = tmp_path / "started"

    def invoke() -> None:
        try:
            client.invoke(FunctionName=name, Payload=json.dumps({"started": str(started)}))
        except Exception:  # the stack goes away under it; what the stack prints is the test
            pass

    caller = threading.Thread(target=invoke, daemon=True)
    caller.start()
    wait_for(started.exists, timeout_s=30, what="the invoke to start")
    stack.process.send_signal(signal.SIGINT)  # what Ctrl-C sends
    assert stack.process.wait(timeout=30) == 0
    caller.join(timeout=30)
    output = log.read_text()
    assert "tarn: stopped" in output
    assert "Traceback" not in output, output[-4000:]

    again = start_stack(tmp_path / "data", tmp_path / "again.log", port=int(port))
    try:
        assert (again.health() or {}).get("status") == "ready"
    finally:
        again.process.send_signal(signal.SIGINT)
        again.process.wait(timeout=30)
