"""The images the Docker and compose tests run on, built once per machine before the suite
(`make test-images`, which `make test` runs first), so that the suite's time is its tests'.

Each is cached by a tag that hashes what went into it: the stand-in runtime images on a Debian
root file system (tests/docker/images/build.py), and Tarn's own image and the Redis stand-in
(tests/compose/images.py). The tests build whatever is still missing themselves. Without a
Docker engine there is nothing to build, and those tests skip, saying why.

    python -m tests.images
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable

from tests.compose.images import ensure_image, ensure_redis
from tests.docker.images.build import build_all, say
from workers.docker.engine import EngineUnavailable


def main() -> int:
    """Build what is missing; a build that fails is left to the tests that need it, which
    try again and report it, so this never fails `make test` by itself."""
    started = time.monotonic()
    builds: list[tuple[str, Callable[[], object]]] = [
        ("the stand-in runtime images", lambda: asyncio.run(build_all())),
        ("Tarn's image", ensure_image),
        ("the Redis image", ensure_redis),
    ]
    for what, build in builds:
        try:
            build()
        except EngineUnavailable as exc:
            say(f"no Docker engine ({exc}): nothing to build; the Docker tests will skip")
            return 0
        except Exception as exc:
            say(f"{what} did not build ({exc}); the tests that need them will say so")
    say(f"test images done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
