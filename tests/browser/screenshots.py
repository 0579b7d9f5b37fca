"""Screenshots of the main pages for the docs, from a live server on SpatiaLite with the demo data.

Run with ``.venv/bin/python -m tests.browser.screenshots``; writes docs/screenshots/*.png.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.browser.journeys import fill_details, make_jpeg, report_by_postcode, send_report, sign_in
from tests.browser.live import (
    COORDINATED,
    ROOT,
    LiveServer,
    create_person,
    invitation_path,
    launch_chromium,
    organisation_id,
    start_live_server,
    wait_for_map_reports,
)

OUT = ROOT / "docs" / "screenshots"


def home_map(page: Page, path: Path) -> None:
    page.goto("/")
    wait_for_map_reports(page)
    expect(page.locator(".leaflet-marker-pane .tellus-cluster").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=path, full_page=True)


def report_form_errors(page: Page, path: Path, photo: Path) -> None:
    page.goto("/report/details?lat=52.4075&lon=-1.5084")
    fill_details(page, summary="Broken glass by the bus stop", details="", email="not an email", photos=[photo])
    page.get_by_role("button", name="Send report").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=path, full_page=True)


def report_page(page: Page, server: LiveServer, path: Path, photo: Path) -> None:
    report_by_postcode(page, "CV1 5RR")
    fill_details(page, summary="Mattresses dumped by the garages", photos=[photo])
    send_report(page, server)
    expect(page.locator(".tellus-photo-list img")).to_have_count(1)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=path, full_page=True)


def report_list(page: Page, path: Path) -> None:
    page.goto("/reports")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=path, full_page=True)


def sign_in_page(page: Page, path: Path) -> None:
    page.goto("/sign-in")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=path, full_page=True)


def organisation_page(browser: Browser, server: LiveServer, path: Path) -> None:
    """A demo organisation as its coordinator sees it, with an invitation waiting."""
    org = organisation_id(server, COORDINATED)
    coordinator = create_person(
        server, name="Jess Morgan", email="jess.morgan@example.org", memberships=((org, "coordinator"),)
    )
    invitation_path(server, org, "new.starter@example.org", by=coordinator)
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    sign_in(page, server, coordinator)
    page.goto(f"/organisations/{org}")
    expect(page.get_by_role("heading", name=COORDINATED, level=1)).to_be_visible()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=path, full_page=True)
    context.close()


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        photo = make_jpeg(tmp / "mattresses.jpg")
        server = start_live_server("spatialite", tmp)
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                context = browser.new_context(
                    base_url=server.url, viewport={"width": 1280, "height": 900}, locale="en-GB"
                )
                page = context.new_page()
                home_map(page, OUT / "home-map.png")
                report_form_errors(page, OUT / "report-form-errors.png", photo)
                report_page(page, server, OUT / "report-page.png", photo)
                report_list(page, OUT / "report-list.png")
                sign_in_page(page, OUT / "sign-in.png")
                organisation_page(browser, server, OUT / "organisation.png")
                browser.close()
        finally:
            server.stop()
    for name in ("home-map", "report-form-errors", "report-page", "report-list", "sign-in", "organisation"):
        print(OUT / f"{name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
