"""Watching a function's folders (code and layers): a burst of saves is one change.

watchfiles (Rust's notify: inotify on Linux, FSEvents on macOS) groups changes until none came
for STEP_MS (at most DEBOUNCE_MS), and leaves out what tools write beside code (__pycache__,
.git, editors' swap files), so a Python function importing its own module does not reload it.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import anyio

# A burst of saves (an editor's, a `git checkout`'s) closes after this long without a change...
STEP_MS = 100
# ...or after this long whatever happens, so a stream of writes still reloads now and then.
DEBOUNCE_MS = 1_600


async def watch_folders(
    folders: Sequence[Path], on_change: Callable[[], Awaitable[None]], stop: anyio.Event
) -> None:
    """Call `on_change` after each burst of changes under `folders`, until `stop` is set
    (watchfiles ends its watching thread then; cancelling it mid-wait leaves it running)."""
    from watchfiles import awatch

    roots = [str(folder.resolve()) for folder in folders]
    async for changes in awatch(*roots, step=STEP_MS, debounce=DEBOUNCE_MS, stop_event=stop):
        changed = sorted({Path(path).name for _, path in changes})
        shown = ", ".join(changed[:3]) + (
            f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        )
        print(f"tarn: {shown} changed: reloading", file=sys.stderr, flush=True)
        await on_change()
