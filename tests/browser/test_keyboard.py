"""Reporting a concern with the keyboard alone, with the focus visible at every stop."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.journeys import (
    REFERENCE,
    assert_focus_visible,
    by_id,
    by_name,
    confirmation_link,
    focused,
    map_name,
    tab_to,
)
from tests.browser.live import LiveServer

pytestmark = pytest.mark.browser


def map_centre(page: Page) -> tuple[float, float]:
    lat, lng = page.evaluate("name => { const c = window[name].getCenter(); return [c.lat, c.lng]; }", map_name(page))
    return float(lat), float(lng)


def wait_for_map_to_settle(page: Page) -> None:
    """Wait for the pan or zoom the last key started to finish (Leaflet animates them)."""
    page.wait_for_function(
        "name => { const m = window[name]; return !(m._panAnim && m._panAnim._inProgress) && !m._animatingZoom; }",
        arg=map_name(page),
    )


def test_report_by_postcode_with_the_keyboard_only(page: Page, live_server: LiveServer) -> None:
    """Can a resident report a concern by postcode using only Tab, Enter, Space, arrows and typing?"""
    page.goto("/")
    tab_to(page, by_name("Report a concern"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/report$"))
    page.wait_for_load_state()  # keys pressed while the page changes go nowhere

    tab_to(page, by_id("postcode"))
    page.keyboard.type("cv1 5rr")
    page.keyboard.press("Enter")
    expect(page.locator("#location-summary")).to_contain_text("CV1 5RR")
    page.wait_for_load_state()

    tab_to(page, lambda info: info["type"] == "radio")
    assert focused(page)["id"] == "category-fly-tipping"
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("radio", name="Litter and overflowing bins")).to_be_checked()
    assert_focus_visible(page)

    tab_to(page, by_id("title"))
    page.keyboard.type("Overflowing bin at the bus stop")
    tab_to(page, by_id("description"))
    page.keyboard.type("The bin is full and rubbish is blowing into the road.")
    tab_to(page, by_id("name"))
    page.keyboard.type("Sam")
    tab_to(page, by_id("show_name"))
    page.keyboard.press("Space")
    expect(page.locator("#show_name")).to_be_checked()
    tab_to(page, by_id("email"))
    page.keyboard.type("sam@example.org")
    tab_to(page, by_name("Send report"))
    page.keyboard.press("Enter")

    expect(page.locator(".govuk-panel--confirmation")).to_contain_text("Nearly done: check your email")
    page.goto(confirmation_link(live_server, "sam@example.org"))  # as if opened from the inbox
    panel = page.locator(".govuk-panel--confirmation")
    expect(panel).to_contain_text("Report sent")
    assert REFERENCE.search(panel.inner_text())
    expect(page.locator(".govuk-summary-list")).to_contain_text("Litter and overflowing bins")
    expect(page.locator(".govuk-summary-list")).to_contain_text("Sam")


def test_choose_the_place_on_the_map_with_the_keyboard(page: Page) -> None:
    """Can a keyboard user move the map with the arrow keys, put the pin in the middle and continue?"""
    page.goto("/report")
    tab_to(page, lambda info: "leaflet-container" in info["cls"])
    before = map_centre(page)
    for key in ("ArrowRight", "ArrowRight", "ArrowUp"):
        page.keyboard.press(key)
        wait_for_map_to_settle(page)
    after = map_centre(page)
    assert after[1] > before[1] + 0.005, "ArrowRight should move the map east"
    assert after[0] > before[0] + 0.002, "ArrowUp should move the map north"
    assert_focus_visible(page)

    tab_to(page, by_name("Put the pin in the middle of the map"))
    page.keyboard.press("Enter")
    expect(page.locator("#pin-status")).to_contain_text("Pin placed in the middle of the map")
    lat, lon = float(page.locator("#lat").input_value()), float(page.locator("#lon").input_value())
    centre = map_centre(page)
    assert abs(lat - centre[0]) < 1e-5 and abs(lon - centre[1]) < 1e-5

    tab_to(page, by_name("Continue"))
    page.keyboard.press("Space")
    expect(page.get_by_role("heading", name="Tell us about the problem", level=1)).to_be_visible()
    expect(page.locator("#location-summary")).to_contain_text("ward")
    assert float(page.locator("#lat").input_value()) == pytest.approx(lat, abs=1e-6)
    assert float(page.locator("#lon").input_value()) == pytest.approx(lon, abs=1e-6)
