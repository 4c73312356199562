"""Playwright on the system Chromium against pytest-django's live server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make to set
# up data happen outside it, so Django's async guard would only get in the way here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parent / "screenshots"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = str(Path(__file__).resolve().parent)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("the system Chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


class Watched:
    """A page that records console errors and uncaught exceptions, and takes screenshots."""

    def __init__(self, page: Any, name: str) -> None:
        self.page = page
        self.name = name
        self.errors: list[str] = []
        self.allowed_404 = False
        # Statuses a test provokes on purpose (Chromium logs any 4xx document as an error).
        self.allowed_statuses: set[int] = set()
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        allowed = self.allowed_statuses | ({404} if self.allowed_404 else set())
        if any(f"status of {code}" in message.text for code in allowed):
            return
        self.errors.append(f"console: {message.text}")

    def shoot(self, label: str) -> None:
        """A full-page screenshot at desktop and at phone width."""
        SHOTS.mkdir(exist_ok=True)
        for size_name, size in (("desktop", DESKTOP), ("phone", PHONE)):
            self.page.set_viewport_size(size)
            self.page.screenshot(path=str(SHOTS / f"{label}-{size_name}.png"), full_page=True)
        self.page.set_viewport_size(DESKTOP)

    def check_accessible(self) -> None:
        """One h1; every visible form control has a label; no horizontal scroll at phone width."""
        # A click that submits a form returns before the next page has its stylesheet;
        # measure the page as a person sees it, once it has loaded.
        self.page.wait_for_load_state("load")
        problems = self.page.evaluate(
            """() => {
              const out = [];
              if (document.querySelectorAll('h1').length !== 1) out.push('h1 count');
              for (const el of document.querySelectorAll('input, select, textarea')) {
                if (el.type === 'hidden') continue;
                const labelled = (el.labels && el.labels.length) || el.getAttribute('aria-label')
                  || el.getAttribute('aria-labelledby');
                if (!labelled) out.push('unlabelled ' + (el.name || el.id || el.tagName));
              }
              return out;
            }"""
        )
        assert problems == [], problems
        self.page.set_viewport_size(PHONE)
        wide = self.page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        self.page.set_viewport_size(DESKTOP)
        assert wide <= 1, f"{self.page.url} scrolls sideways on a phone by {wide}px"


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    """A factory of fresh browser contexts (one per user) with watched pages."""
    contexts = []
    watched: list[Watched] = []

    def make(name: str) -> Watched:
        context = browser.new_context(viewport=DESKTOP, locale="en-US", timezone_id="Europe/Berlin")
        contexts.append(context)
        page = Watched(context.new_page(), name)
        watched.append(page)
        return page

    yield make
    for context in contexts:
        context.close()
    for page in watched:
        assert page.errors == [], (page.name, page.errors)


def pass_second_factor(page: Any) -> None:
    """Set up the authenticator app the way a reviewer or operator does at first sign-in."""
    from tests.two_factor import code_from_secret

    page.wait_for_load_state()
    if "/two-factor/setup/" not in page.url:
        return
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code").fill(code_from_secret(secret))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_load_state()
    assert page.locator("#recovery-codes li").count() == 10
    page.get_by_role("link", name="Continue").click()
    page.wait_for_load_state()
