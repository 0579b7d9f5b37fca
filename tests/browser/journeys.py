"""Steps a resident takes in the browser, shared by the tests and the screenshots."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from PIL import ExifTags, Image, ImageDraw
from playwright.sync_api import Page, Response, expect

from app.extensions import db
from app.mail.models import OutboxEmail
from tests.browser.live import LiveServer, wait_for_map_reports

REFERENCE = re.compile(r"TC-\d{6}")

# Where the summary, details and email of a resident's report live on the details page.
SUMMARY = "#title"
DETAILS = "#description"
EMAIL = "#email"


def make_jpeg(path: Path, *, colour: tuple[int, int, int] = (70, 110, 60)) -> Path:
    """Write a small real JPEG that carries EXIF GPS data (near the Council House)."""
    image = Image.new("RGB", (320, 240), colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 120, 280, 220), fill=(90, 90, 90))
    draw.ellipse((120, 40, 200, 110), fill=(200, 60, 40))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 24.0, 27.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (1.0, 30.0, 30.0)
    image.save(path, "JPEG", exif=exif, quality=85)
    with Image.open(path) as check:
        assert check.getexif().get_ifd(ExifTags.IFD.GPSInfo), "the test photo should carry GPS data"
    return path


def has_gps(jpeg: bytes) -> bool:
    with Image.open(io.BytesIO(jpeg)) as image:
        return bool(image.getexif().get_ifd(ExifTags.IFD.GPSInfo))


def report_by_postcode(page: Page, postcode: str) -> None:
    """From the home page, start a report and enter a postcode; land on the details page."""
    page.goto("/")
    page.get_by_role("button", name="Report a concern").click()
    expect(page).to_have_url(re.compile(r"/report$"))
    page.get_by_label("Enter a postcode").fill(postcode)
    page.get_by_role("button", name="Find postcode").click()
    expect(page.get_by_role("heading", name="Tell us about the problem", level=1)).to_be_visible()


def fill_details(
    page: Page,
    *,
    category: str = "Fly-tipping",
    summary: str = "Mattresses dumped by the garages",
    details: str = "Two mattresses and a broken chair.\nThey have been there since Monday.",
    email: str | None = "resident@example.org",
    photos: list[Any] | None = None,
) -> None:
    """Fill the details form (the pin is already placed); ``email=None`` leaves it empty."""
    page.get_by_role("radio", name=category, exact=True).check()
    page.locator(SUMMARY).fill(summary)
    page.locator(DETAILS).fill(details)
    if photos:
        page.locator("#photos").set_input_files(photos)
    if email is not None:
        page.locator(EMAIL).fill(email)


def send_report(page: Page, server: LiveServer, *, on_sent: Callable[[Page], None] | None = None) -> str:
    """Press "Send report", then confirm it with the link emailed to the address in the form.

    Expects the "check your email" page (where ``on_sent`` is called, if given), then the
    report's page with the "Report sent" panel; returns the reference (TC-000123) both show.
    """
    address = page.locator(EMAIL).input_value()
    page.get_by_role("button", name="Send report").click()
    waiting = page.locator(".govuk-panel--confirmation")
    expect(waiting).to_contain_text("Nearly done: check your email")
    expect(page.get_by_text(f"We have sent a link to {address}")).to_be_visible()
    match = REFERENCE.search(waiting.inner_text())
    assert match, waiting.inner_text()
    reference = match.group(0)
    if on_sent:
        on_sent(page)

    page.goto(confirmation_link(server, address))
    panel = page.locator(".govuk-panel--confirmation")
    expect(panel).to_contain_text("Report sent")
    expect(panel).to_contain_text(reference)
    return reference


def confirmation_link(server: LiveServer, address: str) -> str:
    """The link in the newest report confirmation email queued for ``address``."""
    with server.app.app_context():
        email = db.session.scalar(
            sa.select(OutboxEmail)
            .where(OutboxEmail.to_address == address, OutboxEmail.kind == "confirm_report")
            .order_by(OutboxEmail.id.desc())
            .limit(1)
        )
        assert email is not None, f"no confirmation email for {address}"
        body = email.text_body
    link = re.search(r"https?://[^\s<>\"]+/reports/confirm/[^\s<>\"]+", body)
    assert link, body
    assert link.group(0).startswith(server.url + "/"), "the emailed link should point at this site"
    return link.group(0)


def map_name(page: Page) -> str:
    """The global name folium gave the page's (first) Leaflet map."""
    name = page.locator("[data-tellus-map]").first.get_attribute("data-tellus-map")
    assert name, "no map on the page"
    return name


def reload_map(page: Page, action: Callable[[], object], **query: str | None) -> str:
    """Do ``action``, then wait until the home map has fetched and drawn its reports again.

    The fetch waited for is the first whose query has each of ``query`` (``None``: absent);
    with no ``query``, the first for a different map area. Returns the #map-status text.
    """
    before = page.evaluate("name => window[name].getBounds().toBBoxString()", map_name(page))

    def wanted(response: Response) -> bool:
        if "/api/reports.geojson" not in response.url:
            return False
        params = parse_qs(urlsplit(response.url).query)
        if not query:
            return params.get("bbox") != [before]
        return all(params.get(key) == ([value] if value is not None else None) for key, value in query.items())

    with page.expect_response(wanted):
        action()
    return wait_for_map_reports(page)


def zoom_in_once(page: Page) -> str:
    """Press the map's "Zoom in" button and return the status once the new reports are drawn."""
    return reload_map(page, page.get_by_role("button", name="Zoom in").click)


def zoom_to_single_reports(page: Page, *, max_steps: int = 6) -> str:
    """On the home page, zoom in on the city centre until the map shows single reports."""
    status = wait_for_map_reports(page)
    for _ in range(max_steps):
        if "groups" not in status:
            return status
        status = zoom_in_once(page)
    raise AssertionError(f"still clusters after {max_steps} zooms: {status}")
