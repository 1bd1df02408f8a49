"""Headless Chromium (Debian's `chromium`) driven by Playwright, for the console's tests; a
screenshot of each page goes to test-artifacts/console/ (gitignored)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
WAIT_MS = 20_000


def chromium() -> str:
    """The Chromium to drive, or a skip saying why there is none."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("playwright is not installed: pip install -e '.[test]'")
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("no chromium on PATH: `make system-deps` installs Debian's chromium")
    return found


class Console:
    """One browser page on a stack's console; fails the test on any alert or page error."""

    def __init__(self, page: Any, url: str) -> None:
        self.page = page
        self.url = url
        self.problems: list[str] = []
        page.on("dialog", lambda dialog: self._problem(f"dialog: {dialog.message}", dialog))
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.set_default_timeout(WAIT_MS)

    def _problem(self, text: str, dialog: Any) -> None:
        self.problems.append(text)
        dialog.dismiss()

    def open(self, fragment: str = "") -> Any:
        """Go to `/_tarn/console#<fragment>` and wait until its view is drawn."""
        target = f"{self.url}/_tarn/console#{fragment}"
        if self.page.url == target:  # the same fragment is no navigation: load it again
            self.page.reload()
        else:
            self.page.goto(target)
        self.page.wait_for_selector("#view[data-loading=false]")
        return self.page

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path
