"""Fixtures for the dashboard: the controllers, a Git server, and a real browser (chromium).

The browser is Debian's ``chromium`` (``hack/install-test-deps.sh`` installs it), driven by
Playwright's Python package through ``executable_path`` — Playwright downloads no browser.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.integration.cli.conftest import controllers, git_server

__all__ = ["SCREENSHOTS", "browser", "controllers", "git_server", "screenshot"]

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "images"
"""Where ``TIDE_SCREENSHOTS=1`` writes the screenshots ``docs/dashboard.md`` shows."""


_EXPECT_SECONDS = 20
"""How long an ``expect`` waits for the page to show what it should."""


def _chromium() -> str:
    found = os.environ.get("TIDE_CHROMIUM") or shutil.which("chromium")
    if found is None:
        pytest.fail("chromium is missing: run hack/install-test-deps.sh")
    return found


@pytest_asyncio.fixture(loop_scope="session")
async def browser() -> AsyncIterator[object]:
    """A headless chromium page, 1400x900, closed after the test."""
    from playwright.async_api import async_playwright, expect

    # Playwright's 5 s default is short on a 2-core machine shared by many test sessions.
    expect.set_options(timeout=_EXPECT_SECONDS * 1000)

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=_chromium(), headless=True, args=["--no-sandbox"]
        )
        page = await launched.new_page(viewport={"width": 1400, "height": 900})
        try:
            yield page
        finally:
            await launched.close()


async def screenshot(page: object, name: str) -> None:
    """Save the page as ``docs/images/<name>.png`` when ``TIDE_SCREENSHOTS=1``."""
    if os.environ.get("TIDE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]
