"""Reporting a concern in a real browser: by postcode, by clicking the map, and after a mistake."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.journeys import (
    DETAILS,
    EMAIL,
    SUMMARY,
    fill_details,
    has_gps,
    make_jpeg,
    map_name,
    report_by_postcode,
    send_report,
)
from tests.browser.live import LiveServer

pytestmark = pytest.mark.browser


def test_report_by_postcode_end_to_end(
    page: Page, live_server: LiveServer, tmp_path: Path, axe: Callable[[Page], None]
) -> None:
    """Can a resident go from the home page to a sent report with a photo, finding the place by a messy postcode?"""
    photo = make_jpeg(tmp_path / "mattresses.jpg")

    report_by_postcode(page, " cv1 5rr ")

    expect(page.locator("#location-summary")).to_contain_text("We have put the pin at the centre of CV1 5RR")
    expect(page.locator("#location-summary")).to_contain_text("St Michael's")
    expect(page.locator(".leaflet-marker-icon[role=button]")).to_have_count(1)
    lat, lon = float(page.locator("#lat").input_value()), float(page.locator("#lon").input_value())
    assert abs(lat - 52.4075) < 0.001 and abs(lon + 1.5084) < 0.0015, (lat, lon)

    fill_details(page, summary="Mattresses dumped by the garages", email="postcode@example.org", photos=[photo])
    reference = send_report(page, live_server)

    assert re.fullmatch(r"TC-\d{6}", reference)
    expect(page.get_by_role("heading", name="Mattresses dumped by the garages", level=1)).to_be_visible()
    expect(page.locator(".govuk-summary-list")).to_contain_text(reference)
    expect(page.locator(".govuk-summary-list")).to_contain_text("St Michael's")
    expect(page.locator(".tellus-description")).to_contain_text("They have been there since Monday.")
    thumbnail = page.get_by_role("img", name=re.compile(r"Photo 1 of 1 for this report"))
    expect(thumbnail).to_be_visible()
    assert page.evaluate("img => img.complete && img.naturalWidth > 0", thumbnail.element_handle())
    full = page.request.get(str(page.locator(".tellus-photo-list a").get_attribute("href")))
    assert full.ok and full.headers["content-type"] == "image/jpeg"
    assert not has_gps(full.body()), "the published photo still carries its GPS position"
    axe(page)

    page.reload()
    expect(page.locator(".govuk-panel--confirmation")).to_have_count(0)


def settled_point(page: Page, lat: float, lon: float) -> dict[str, float]:
    """Where the map draws (lat, lon), read until two readings 100 ms apart agree."""
    script = (
        "([name, lat, lon]) => { const p = window[name].latLngToContainerPoint([lat, lon]); return {x: p.x, y: p.y}; }"
    )
    previous: dict[str, float] | None = None
    for _ in range(50):
        point: dict[str, float] = page.evaluate(script, [map_name(page), lat, lon])
        if point == previous:
            return point
        previous = point
        page.wait_for_timeout(100)
    raise AssertionError("the map kept moving for 5 seconds")


def test_report_by_clicking_the_map(page: Page, live_server: LiveServer, axe: Callable[[Page], None]) -> None:
    """Can a resident choose the place by clicking the map (ward outlines, no tiles) and send a report?"""
    page.goto("/report")
    expect(page.locator(".leaflet-overlay-pane svg path").first).to_be_attached()
    # Foleshill, well inside the city: click exactly where Leaflet draws it, once the map has
    # stopped moving (it fits the city on load; a point read mid-animation lands elsewhere).
    point = settled_point(page, 52.4300, -1.4966)
    page.locator(".folium-map").click(position=point)

    expect(page.locator("#pin-status")).to_contain_text("Pin placed at 52.43")
    expect(page.locator(".leaflet-marker-icon[role=button]")).to_have_count(1)
    lat, lon = float(page.locator("#lat").input_value()), float(page.locator("#lon").input_value())
    assert abs(lat - 52.4300) < 0.002 and abs(lon + 1.4966) < 0.003

    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#location-summary")).to_contain_text("Foleshill")
    fill_details(page, category="Street lighting", summary="Street light out on the corner", email="map@example.org")
    reference = send_report(page, live_server, on_sent=axe)

    assert re.fullmatch(r"TC-\d{6}", reference)
    expect(page.locator(".govuk-summary-list")).to_contain_text("Foleshill")
    expect(page.locator(".govuk-summary-list")).to_contain_text("Street lighting")


def test_continue_without_a_pin_asks_for_one(page: Page) -> None:
    """Does pressing Continue before choosing a place keep the resident on the map with a message?"""
    page.goto("/report")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#pin-status")).to_contain_text("Choose where the problem is")
    expect(page).to_have_url(re.compile(r"/report$"))


def test_failed_submission_keeps_what_was_entered(page: Page, tmp_path: Path, live_server: LiveServer) -> None:
    """After a missing email and a fake photo, are the errors linked, the text kept and the good photo kept?"""
    good = make_jpeg(tmp_path / "good.jpg", colour=(30, 60, 140))
    fake = tmp_path / "photo.jpg"
    fake.write_text("this is not a picture")

    page.goto("/report/details?lat=52.4075&lon=-1.5084")
    fill_details(
        page,
        category="Graffiti",
        summary="Tags on the underpass",
        details="Fresh tags all along the wall.\nSome are offensive.",
        email=None,
        photos=[fake, good],
    )
    page.get_by_role("button", name="Send report").click()

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Error: "))
    links = summary.get_by_role("link")
    expect(links).to_have_count(2)
    expect(summary.get_by_role("link", name="photo.jpg is not a photo")).to_have_attribute("href", "#photos")
    email_link = summary.get_by_role("link", name="Enter your email address")
    expect(email_link).to_have_attribute("href", "#email")
    for href in links.evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        expect(page.locator(href)).to_have_count(1)
    expect(page.locator("#email-error")).to_contain_text("Enter your email address")
    expect(page.locator("#photos-error")).to_contain_text("photo.jpg is not a photo")

    expect(page.locator(SUMMARY)).to_have_value("Tags on the underpass")
    expect(page.locator(DETAILS)).to_have_value("Fresh tags all along the wall.\nSome are offensive.")
    expect(page.get_by_role("radio", name="Graffiti", exact=True)).to_be_checked()
    kept = page.get_by_role("img", name="Photo you added: good.jpg")
    expect(kept).to_be_visible()
    assert page.evaluate("img => img.complete && img.naturalWidth > 0", kept.element_handle())
    expect(page.get_by_role("checkbox", name="Keep good.jpg")).to_be_checked()
    expect(page.get_by_role("img", name=re.compile("photo.jpg"))).to_have_count(0)

    email_link.click()
    expect(page.locator(EMAIL)).to_be_focused()
    page.keyboard.type("fixed@example.org")
    reference = send_report(page, live_server)

    assert re.fullmatch(r"TC-\d{6}", reference)
    expect(page.locator(".tellus-description")).to_contain_text("Some are offensive.")
    expect(page.locator(".tellus-photo-list img")).to_have_count(1)
    expect(page.get_by_role("img", name="Photo 1 of 1 for this report (opens full size)")).to_be_visible()
