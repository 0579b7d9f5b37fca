"""Browser test fixtures: one live server on its own database, one Chromium per session,
one fresh browser context (cookies, storage) per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.live import LiveServer, axe_violations, describe_violations, launch_chromium, start_live_server


@pytest.fixture(scope="session")
def live_server(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_live_server(db_kind, tmp_path_factory.mktemp("browser"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def axe() -> Callable[[Page], None]:
    """``axe(page)`` fails the test, listing each rule and element, if axe-core finds WCAG 2.2 AA violations."""

    def check(page: Page) -> None:
        violations = axe_violations(page)
        assert not violations, f"axe found accessibility violations on {page.url}:\n{describe_violations(violations)}"

    return check
