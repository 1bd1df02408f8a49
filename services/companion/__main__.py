"""`python -m services.companion [moto server flags]`: moto's own server, in this process, after
Tarn's hooks, with its state restored from and kept on the data dir (TARN_DATA_DIR) and its
EventBridge schedules fired; the same flags as `python -m moto.server` (-H HOST -p PORT)."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from moto import server

from services.companion import hooks
from services.companion.snapshots import Snapshots
from services.companion.tarn import settings
from services.companion.triggers.scheduler import Scheduler

log = logging.getLogger("tarn.companion")


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    data_dir = Path(settings().data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    snapshots = Snapshots(data_dir)
    started = time.monotonic()
    restored = snapshots.restore()
    if restored:
        took = time.monotonic() - started
        log.info("restored %s from %s in %.3f s", ", ".join(restored), snapshots.path, took)
    hooks.install(on_change=snapshots.changed)
    if hooks.CLOUDFORMATION in restored:  # stacks: their operations may have been cut short
        hooks.install_cloudformation(on_change=snapshots.changed)
        from services.companion.cloudformation.operations import fail_interrupted

        for stack in fail_interrupted():
            log.warning("stack %s: its operation was cut short by the last stop", stack)
    snapshots.start()
    scheduler = Scheduler(settings().schedule_speedup, on_change=snapshots.changed)
    scheduler.start()
    try:
        server.main(argv if argv is not None else sys.argv[1:])
    finally:  # moto's SIGTERM handler exits through here
        scheduler.stop()
        snapshots.stop()


if __name__ == "__main__":
    main()
