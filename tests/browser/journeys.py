"""Steps people take in the browser (residents, partner staff, administrators), shared by the
tests and the screenshots."""

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
from tests.browser.live import LiveServer, Person, totp_code, wait_for_map_reports

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


def emailed_link(server: LiveServer, address: str, kind: str, path: str) -> str:
    """The link starting ``path`` (such as "/account/verify/") in the newest email of ``kind``
    queued for ``address``, read from the live server's outbox table."""
    with server.app.app_context():
        email = db.session.scalar(
            sa.select(OutboxEmail)
            .where(OutboxEmail.to_address == address, OutboxEmail.kind == kind)
            .order_by(OutboxEmail.id.desc())
            .limit(1)
        )
        assert email is not None, f"no {kind} email for {address}"
        text, html = email.text_body, email.html_body
    link = re.search(rf"https?://[^\s<>\"]+{re.escape(path)}[^\s<>\"]+", text)
    assert link, text
    assert link.group(0).startswith(server.url + "/"), "the emailed link should point at this site"
    assert link.group(0) in html, "the HTML part should carry the same link"
    return link.group(0)


def confirmation_link(server: LiveServer, address: str) -> str:
    """The link in the newest report confirmation email queued for ``address``."""
    return emailed_link(server, address, "confirm_report", "/reports/confirm/")


# --- Signing in and out ----------------------------------------------------------------------


def sign_in(page: Page, server: LiveServer, person: Person, *, path: str | None = "/sign-in") -> None:
    """Sign ``person`` in through the sign-in page (opening ``path`` first, unless None), with
    their second-factor code when they have one. Stops on the page the server sends them to."""
    if path is not None:
        page.goto(path)
    page.get_by_label("Email address").fill(person.email)
    page.get_by_label("Password", exact=True).fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    if person.totp_secret:
        expect(page.get_by_role("heading", name="Enter the code from your app", level=1)).to_be_visible()
        page.get_by_label("6-digit code").fill(totp_code(server, person))
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading", name="Enter the code from your app", level=1)).to_have_count(0)


def sign_out(page: Page) -> None:
    """Press the header's Sign out button; land on the home page with the notice."""
    page.get_by_role("banner").get_by_role("button", name="Sign out").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("You have signed out.")


# --- The keyboard ----------------------------------------------------------------------------

# What has focus, and whether it shows: an outline that is not none or transparent, or a box
# shadow. Radios and checkboxes are drawn by their label's ::before (GOV.UK Frontend).
FOCUS_JS = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) { return {tag: "BODY", id: "", name: "", type: "", visible: false}; }
    const shows = style =>
        (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0 &&
         !/^(transparent|rgba\\(.*, 0\\))$/.test(style.outlineColor)) ||
        (style.boxShadow !== "" && style.boxShadow !== "none");
    let visible = shows(getComputedStyle(el));
    if (!visible && (el.type === "radio" || el.type === "checkbox") && el.labels.length) {
        visible = shows(getComputedStyle(el.labels[0], "::before"));
    }
    const name = (el.getAttribute("aria-label") || (el.labels && el.labels[0] && el.labels[0].textContent) ||
                  el.getAttribute("title") || el.textContent || "").replace(/\\s+/g, " ").trim();
    return {tag: el.tagName, id: el.id, name: name.slice(0, 80), type: el.type || "", visible: visible,
            cls: String(el.className && el.className.baseVal !== undefined ? el.className.baseVal : el.className)};
}"""


def focused(page: Page) -> dict[str, Any]:
    info: dict[str, Any] = page.evaluate(FOCUS_JS)
    return info


def assert_focus_visible(page: Page) -> dict[str, Any]:
    info = focused(page)
    assert info["visible"], f"focus is not visible on {info}"
    return info


def tab_to(
    page: Page, matches: Callable[[dict[str, Any]], bool], *, limit: int = 80, key: str = "Tab"
) -> dict[str, Any]:
    """Press Tab (or ``key``, such as Shift+Tab) until ``matches`` the focused element, checking
    the focus is visible at every stop."""
    seen = []
    for _ in range(limit):
        page.keyboard.press(key)
        info = focused(page)
        seen.append(f"{info['tag']}#{info['id']} {info['name']!r}")
        assert info["visible"], f"focus is not visible on {info}; focus went through:\n" + "\n".join(seen)
        if matches(info):
            return info
    raise AssertionError("never reached the element; focus went through:\n" + "\n".join(seen))


def by_id(element_id: str) -> Callable[[dict[str, Any]], bool]:
    return lambda info: info["id"] == element_id


def by_name(name: str) -> Callable[[dict[str, Any]], bool]:
    return lambda info: info["name"] == name


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
