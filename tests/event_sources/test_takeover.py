"""Several poller processes share the mappings, and a killed one's mappings move on.

The stack of this test's own runs one `workers event_sources`; the test starts a second one
by hand, with the first one's environment (so the same Redis, companion and settings).
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

from tests.api.test_stack import role_pid
from tests.conftest import start_stack, stop_stack
from tests.event_sources.sqs_stack import ExtraPoller, Mappings, Setup
from tests.waiting import wait_for


def _pid(owner: str | None) -> int | None:
    """The process id in a lease owner's name ("<consumer>:<pid>:<nonce>")."""
    return None if owner is None else int(owner.split(":")[1])


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return "zombie" not in Path(f"/proc/{pid}/status").read_text()


def test_pollers_share_the_mappings_and_a_killed_ones_move_to_another(tmp_path: Path) -> None:
    # The poller alone is killed (in the default layout, every role would go with it).
    split = {"TARN_WORKER_LAYOUT": "split"}
    stack = start_stack(tmp_path / "data", tmp_path / "tarn.log", settings=split)
    mappings = Mappings(stack)
    extra = None
    try:
        # A receive the killed poller had in flight may still take a message sent after
        # the kill, and nobody deletes it: it comes back after the visibility timeout.
        visibility = {"VisibilityTimeout": "2"}
        setups = [Setup(stack, tmp_path, queue_attributes=visibility) for _ in range(4)]
        uuids = [mappings.create(setup, BatchSize=10) for setup in setups]
        for mapping in uuids:
            mappings.wait_for_state(mapping, "Enabled")
        first = role_pid(stack, "event_sources")
        assert {_pid(mappings.owner(mapping)) for mapping in uuids} == {first}

        extra = ExtraPoller(first, tmp_path / "extra-poller.log")
        owners = lambda: Counter(_pid(mappings.owner(mapping)) for mapping in uuids)  # noqa: E731
        wait_for(lambda: owners() == {first: 2, extra.process.pid: 2}, 15, "two mappings each")

        moving = [mapping for mapping in uuids if _pid(mappings.owner(mapping)) == first]
        os.kill(first, signal.SIGKILL)
        wait_for(
            lambda: all(_alive(_pid(mappings.owner(mapping))) for mapping in moving),
            20,
            "the killed poller's mappings to be held by live pollers",
        )
        for setup in setups:
            setup.send("after the kill")
        for setup in setups:
            assert setup.wait_for_bodies(1) == ["after the kill"]
    finally:
        if extra is not None:
            extra.stop()
        mappings.close()
        stop_stack(stack)
