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

from tests.compose.images import ensure_image, ensure_redis
from tests.docker.images.build import build_all, say
from workers.docker.engine import EngineUnavailable


def main() -> int:
    started = time.monotonic()
    try:
        asyncio.run(build_all())
    except EngineUnavailable as exc:
        say(f"no Docker engine ({exc}): nothing to build; the Docker tests will skip")
        return 0
    ensure_image()
    ensure_redis()
    say(f"every test image is here ({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
