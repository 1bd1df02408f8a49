"""Watching a `tarn run --watch` function's folders (code and layers): a burst of saves is
one change, as the pool's hot reload sees it (workers/pool/reload.py)."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import anyio


async def watch_folders(
    folders: Sequence[Path], on_change: Callable[[], Awaitable[None]], stop: anyio.Event
) -> None:
    """Call `on_change` after each burst of changes under `folders`, until `stop` is set
    (watchfiles ends its watching thread then; cancelling it mid-wait leaves it running)."""
    from workers.pool.reload import folder_changes

    roots = [str(folder.resolve()) for folder in folders]
    async for changes in folder_changes(roots, stop):
        changed = sorted({Path(path).name for _, path in changes})
        shown = ", ".join(changed[:3]) + (
            f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        )
        print(f"tarn: {shown} changed: reloading", file=sys.stderr, flush=True)
        await on_change()
