"""axe-core (WCAG 2.2 A and AA rules) on every public page, in the states people see them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from tests.browser.journeys import zoom_to_single_reports
from tests.browser.live import LiveServer, wait_for_map_reports
from tests.browser.pages import PUBLIC_PAGES, PublicPage

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("public_page", PUBLIC_PAGES, ids=lambda p: p.name)
def test_page_has_no_axe_violations(
    page: Page, live_server: LiveServer, public_page: PublicPage, axe: Callable[[Page], None]
) -> None:
    """Does axe find no WCAG 2.2 AA violations on this page?"""
    public_page.open(page, live_server)
    axe(page)


def test_zoomed_in_home_map_has_no_axe_violations(page: Page, axe: Callable[[Page], None]) -> None:
    """With single reports on the home map (zoomed in on the city centre), does axe still find nothing?"""
    page.goto("/")
    zoom_to_single_reports(page)
    axe(page)


def test_home_map_with_every_report_as_a_pin_has_no_axe_violations(
    page: Page, live_server: LiveServer, axe: Callable[[Page], None]
) -> None:
    """With the production limit (400 pins before clustering), are the city's 300 pins still big enough to use?"""
    with live_server.config(MAP_MAX_POINTS=400):
        page.goto("/")
        status = wait_for_map_reports(page)
        assert status.startswith("300 reports in this area"), status
        axe(page)
