"""One stack for the console's tests that need metrics put often: every half second, not ten."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import Stack, start_stack, stop_stack


@pytest.fixture(scope="session")
def console_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("console-stack")
    settings = {"TARN_METRICS_INTERVAL_S": "0.5"}
    running = start_stack(folder / "data", folder / "tarn.log", settings=settings)
    yield running
    stop_stack(running)
