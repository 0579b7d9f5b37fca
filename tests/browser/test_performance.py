"""The partnership performance page and the inbox map in Chromium: axe-core (WCAG 2.2 A and AA)
and reflow to 320 pixels wide, with and without errors, and each used with the keyboard alone."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from app.accounts.models import User
from app.coordination import routing
from app.coordination.claims import claim_case
from app.coordination.queries import load_case
from app.extensions import db
from app.partners.models import Organisation
from app.reports.models import Report
from tests.browser.journeys import by_name, tab_to
from tests.browser.live import (
    COORDINATED,
    OVERFLOW_JS,
    LiveServer,
    Person,
    create_person,
    create_report,
    organisation_id,
)
from tests.browser.pages import shows_errors
from tests.browser.test_accessibility_cases import check, open_page

pytestmark = pytest.mark.browser

ROUTED = 4
LED = 2


@pytest.fixture(scope="module")
def org_id(live_server: LiveServer) -> int:
    return organisation_id(live_server, COORDINATED)


@pytest.fixture(scope="module")
def cases(live_server: LiveServer, org_id: int, admin: Person, coordinator: Person) -> list[int]:
    """``ROUTED`` new reports of this module's own (so that the demo reports other modules route
    are left to them), routed to COORDINATED through triage, the first ``LED`` of them led by
    it (claimed by its coordinator, which acknowledges them and sets their deadlines)."""
    reporter = create_person(live_server, name="Pat Performance")
    made = [create_report(live_server, reporter, f"Performance test report {n}") for n in range(ROUTED)]
    with live_server.app.app_context():
        organisation = db.session.get(Organisation, org_id)
        by_admin = db.session.get(User, admin.id)
        by_coordinator = db.session.get(User, coordinator.id)
        assert organisation is not None and by_admin is not None and by_coordinator is not None
        for n, report_id in enumerate(made):
            report = db.session.get(Report, report_id)
            case = load_case(db.session, report_id)
            assert report is not None and case is not None
            if org_id not in case.organisation_ids:
                routing.route_to(db.session, report, organisation, reason="Routed by a browser test.", by=by_admin)
            if n < LED:
                claim_case(db.session, report, organisation, role="lead", by=by_coordinator)
        db.session.commit()
    return made


@pytest.fixture(scope="module")
def member(live_server: LiveServer, org_id: int) -> Person:
    """A member (not a coordinator) of COORDINATED only."""
    return create_person(live_server, name="Mina Mapper", memberships=((org_id, "member"),))


# --- Partnership performance ----------------------------------------------------------------------


def test_performance_page_has_no_axe_violations(
    page_as: Callable[[Person], Page], coordinator: Person, cases: list[int], org_id: int, axe: Callable[[Page], None]
) -> None:
    """Does a coordinator's performance page, with its charts and tables, pass axe and reflow to
    320 pixels wide?"""
    page = page_as(coordinator)
    open_page(page, "/performance", "Partnership performance")
    expect(page.locator(f"#table-times-{org_id}")).to_be_visible()
    expect(page.locator(f"#chart-ages-{org_id} figcaption")).to_be_visible()
    expect(page.locator(f"#table-ages-{org_id}")).to_contain_text("Routed, nobody leads yet")
    check(page, axe)


def test_performance_page_for_an_administrator_has_no_axe_violations(
    page_as: Callable[[Person], Page], admin: Person, cases: list[int], axe: Callable[[Page], None]
) -> None:
    """Does the page with every demo organisation, for an administrator, pass axe and reflow?"""
    page = page_as(admin)
    open_page(page, "/performance", "Partnership performance")
    expect(page.get_by_label("Organisation")).to_contain_text("All organisations")
    check(page, axe)


def test_performance_errors_have_no_axe_violations(
    page_as: Callable[[Person], Page], coordinator: Person, cases: list[int], axe: Callable[[Page], None]
) -> None:
    """After a start date that is not a real date, does the page show the error summary
    (focused, linking to the day field), keep what was typed, and pass axe and reflow?"""
    page = page_as(coordinator)
    open_page(page, "/performance", "Partnership performance")
    start = page.get_by_role("group", name="Published from")
    start.get_by_label("Day").fill("31")
    start.get_by_label("Month").fill("2")
    start.get_by_label("Year").fill("2026")
    with page.expect_response(re.compile(r"/performance\?")) as answer:
        page.get_by_role("button", name="Show figures").click()
    assert answer.value.status == 400
    shows_errors(page, "Start date must be a real date")
    expect(start.get_by_label("Day")).to_have_value("31")
    check(page, axe)


def test_performance_filters_with_the_keyboard_only(
    page_as: Callable[[Person], Page], coordinator: Person, cases: list[int], org_id: int
) -> None:
    """Can a coordinator choose a period by keyboard alone (Tab and typing), show the figures
    with Enter, and reach the CSV download, with the focus visible at every stop?"""
    page = page_as(coordinator)
    open_page(page, "/performance", "Partnership performance")
    tab_to(page, lambda info: info["id"] == "from-day")
    page.keyboard.press("Control+A")
    page.keyboard.type("1")
    tab_to(page, by_name("Show figures"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"from-day=1&"))
    expect(page.locator(f"#table-times-{org_id}")).to_be_visible()
    info = tab_to(page, by_name("response times"))
    assert info["tag"] == "A"


# --- The inbox map ---------------------------------------------------------------------------------


# Leaflet's panes (the ward outlines' SVG, say) reach past the map's edges, but the map clips
# them (overflow: hidden): nothing inside the map counts, and the map itself must fit.
MAP_OVERFLOW_JS = OVERFLOW_JS.replace('.govuk-visually-hidden")', '.govuk-visually-hidden, .leaflet-container")')


def check_map_page(page: Page, axe: Callable[[Page], None]) -> None:
    """No axe violations, and at 320 pixels wide nothing but tables runs off the right edge,
    the map included."""
    axe(page)
    page.set_viewport_size({"width": 320, "height": 800})
    overflowing = page.evaluate(MAP_OVERFLOW_JS)
    assert not overflowing, f"at 320px wide, these run off the right edge of {page.url}:\n" + "\n".join(overflowing)
    box = page.locator(".leaflet-container").bounding_box()
    assert box is not None and box["x"] + box["width"] <= 321, box


def wait_for_markers(page: Page) -> str:
    page.wait_for_function("() => (document.getElementById('map-status') || {}).innerText")
    return page.locator("#map-status").inner_text()


def test_inbox_map_has_no_axe_violations(
    page_as: Callable[[Person], Page], member: Person, cases: list[int], org_id: int, axe: Callable[[Page], None]
) -> None:
    """Does a member's inbox map, with a marker for each report routed to their organisation,
    pass axe and reflow to 320 pixels wide, and offer the list instead?"""
    page = page_as(member)
    open_page(page, f"/inbox/map?org={org_id}", COORDINATED)
    assert "on the map" in wait_for_markers(page)
    expect(page.locator(".leaflet-marker-icon").first).to_be_visible()
    expect(page.get_by_role("link", name="list view of this inbox", exact=True).last).to_be_visible()
    check_map_page(page, axe)


def test_inbox_map_with_a_bad_filter_has_no_axe_violations(
    page_as: Callable[[Person], Page], member: Person, cases: list[int], org_id: int, axe: Callable[[Page], None]
) -> None:
    """Does the map page with a bad filter value show the error summary and pass axe?"""
    page = page_as(member)
    open_page(page, f"/inbox/map?org={org_id}&status=lost", COORDINATED, status=400)
    shows_errors(page, "Choose a status from the list")
    check_map_page(page, axe)


def test_inbox_map_with_the_keyboard_only(
    page_as: Callable[[Person], Page], member: Person, cases: list[int], org_id: int
) -> None:
    """Can a keyboard user Tab to a report's marker, open it with Enter, Tab to the link to its
    case and follow it, with the focus visible at every stop?"""
    page = page_as(member)
    open_page(page, f"/inbox/map?org={org_id}", COORDINATED)
    wait_for_markers(page)
    marker = tab_to(page, lambda info: "leaflet-marker-icon" in info["cls"], limit=120)
    assert re.match(r"TC-\d{6}: |\d+ reports here", marker["name"]), marker
    page.keyboard.press("Enter")
    expect(page.locator(".leaflet-popup-content a").first).to_be_visible()
    link = tab_to(page, lambda info: info["tag"] == "A" and info["name"].startswith("TC-"), limit=40)
    href = page.evaluate("() => document.activeElement.getAttribute('href')")
    # A case in this organisation's inbox (other modules route reports to it too).
    assert re.fullmatch(r"/cases/\d+", href), (link, href)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"{re.escape(href)}$"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_the_list_and_the_map_link_to_each_other_with_the_same_filters(
    page_as: Callable[[Person], Page], member: Person, cases: list[int], org_id: int
) -> None:
    """Does "Map" on a filtered inbox open the map with the same filters, and "List" come back?"""
    page = page_as(member)
    open_page(page, f"/inbox?org={org_id}&status=acknowledged", COORDINATED)
    page.get_by_role("navigation", name="Ways to see this inbox").get_by_role("link", name="Map").click()
    expect(page).to_have_url(re.compile(r"/inbox/map\?.*status=acknowledged"))
    # This module's led cases at least (other modules may have led more of this organisation's).
    shown = re.match(r"(\d+) reports? on the map", page.locator("#inbox-map-count").inner_text())
    assert shown and int(shown.group(1)) >= LED
    page.get_by_role("navigation", name="Ways to see this inbox").get_by_role("link", name="List").click()
    expect(page).to_have_url(re.compile(r"/inbox\?.*status=acknowledged"))
