"""Every kind of page the public sees, and how to open each one in the browser."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from playwright.sync_api import Page, expect

from tests.browser.live import LiveServer, demo_report_id, wait_for_map_reports


@dataclass(frozen=True)
class PublicPage:
    name: str
    open: Callable[[Page, LiveServer], None]


def _visit(path: str, status: int = 200) -> Callable[[Page, LiveServer], None]:
    def visit(page: Page, server: LiveServer) -> None:
        response = page.goto(path)
        assert response is not None and response.status == status, f"{path}: {response and response.status}"

    return visit


def _home(page: Page, server: LiveServer) -> None:
    _visit("/")(page, server)
    wait_for_map_reports(page)


def _details_with_errors(page: Page, server: LiveServer) -> None:
    _visit("/report/details?lat=52.4075&lon=-1.5084")(page, server)
    page.locator("#title").fill("Broken glass on the pavement")
    page.get_by_role("button", name="Send report").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()


def _report(*, sensitive: bool) -> Callable[[Page, LiveServer], None]:
    def visit(page: Page, server: LiveServer) -> None:
        category = "anti-social-behaviour" if sensitive else None
        _visit(f"/reports/{demo_report_id(server, sensitive=sensitive, category=category)}")(page, server)
        if sensitive:
            expect(page.locator(".govuk-inset-text")).to_contain_text("This is a sensitive category")

    return visit


def _bad_filter(page: Page, server: LiveServer) -> None:
    _visit("/reports?category=fly-tipping&from=2025-02-30", status=400)(page, server)
    expect(page.locator(".govuk-error-summary")).to_be_visible()


PUBLIC_PAGES = [
    PublicPage("home", _home),
    PublicPage("report-start", _visit("/report")),
    PublicPage("report-details", _visit("/report/details?lat=52.4075&lon=-1.5084")),
    PublicPage("report-details-errors", _details_with_errors),
    PublicPage("list", _visit("/reports")),
    PublicPage("list-page-2", _visit("/reports?page=2")),
    PublicPage("list-bad-filter", _bad_filter),
    PublicPage("report", _report(sensitive=False)),
    PublicPage("report-sensitive", _report(sensitive=True)),
    PublicPage("about-data", _visit("/about/data")),
    PublicPage("accessibility", _visit("/accessibility")),
    PublicPage("not-found", _visit("/no-such-page", status=404)),
]
