"""The console's tests: one stack that puts metrics every half second (not ten), and a headless
Chromium with a page on it per test."""

from __future__ import annotations

import gc
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Stack, start_stack, stop_stack
from tests.console.browser import Console, chromium


@pytest.fixture(scope="session")
def console_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("console-stack")
    settings = {"TARN_METRICS_INTERVAL_S": "0.5"}
    running = start_stack(folder / "data", folder / "tarn.log", settings=settings)
    yield running
    stop_stack(running)


# Module scope: Playwright's sync API runs an event loop on the main thread while it is
# open, and every later test that starts one of its own (asyncio.run, anyio) would fail.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium()  # or a skip saying what is missing
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def console(browser: Any, console_stack: Any) -> Iterator[Console]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = Console(context.new_page(), console_stack.url)
    yield page
    context.close()
    # The boto3 clients the test and its helpers made are let go now, with their pooled
    # connections (botocore closes those only when asked); not in the next test's setup.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    assert page.problems == []
