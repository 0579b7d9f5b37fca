"""The alerts page in Chromium: a ward officer subscribes, sees the alert listed and removes it,
with the mouse and with the keyboard alone; errors are summarised and the page passes axe-core
(WCAG 2.2 A and AA) and reflows to 320 pixels; and "Watch this ward" works from the dashboard."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from app.db import utcnow
from app.extensions import db
from app.hotspots.models import AlertDelivery, AlertSubscription, Finding, FindingKind
from tests.browser.journeys import by_id, by_name, tab_to
from tests.browser.live import LiveServer, Person, create_person, ward_code
from tests.browser.pages import shows_errors
from tests.browser.test_accessibility_cases import check, open_page

pytestmark = pytest.mark.browser

WARD = "Foleshill"
OTHER_WARD = "Longford"


@pytest.fixture(scope="module")
def officer(live_server: LiveServer) -> Person:
    """A ward officer for Foleshill and Longford (with the second factor they must have), with
    one past alert: a finding emailed to them earlier."""
    person = create_person(
        live_server,
        name="Olu Alerts",
        wards=(ward_code(live_server, WARD), ward_code(live_server, OTHER_WARD)),
        totp=True,
    )
    with live_server.app.app_context():
        finding = Finding(
            kind=FindingKind.EMERGING,
            key=f"browser-test:{person.id}",
            ward_code=ward_code(live_server, WARD),
            summary="Fly-tipping in Foleshill: 41 reports in the last 4 weeks against about 18 expected",
            current=41,
            expected=18.0,
            z=4.6,
            trend="rising",
        )
        db.session.add(finding)
        db.session.flush()
        db.session.add(AlertDelivery(finding_id=finding.id, user_id=person.id, sent_at=utcnow()))
        db.session.commit()
    return person


def subscriptions(server: LiveServer, person: Person) -> int:
    with server.app.app_context():
        return db.session.query(AlertSubscription).filter_by(user_id=person.id).count()


def test_subscribe_see_it_listed_and_unsubscribe(
    page_as: Callable[[Person], Page], officer: Person, live_server: LiveServer, axe: Callable[[Page], None]
) -> None:
    """Can a ward officer add an alert for one of their wards and a category, see it in their
    list with a success banner (the page passing axe and reflow), and remove it again?"""
    page = page_as(officer)
    open_page(page, "/alerts", "Alerts")
    expect(page.get_by_text("Fly-tipping in Foleshill: 41 reports")).to_be_visible()  # the past alert
    page.get_by_label("Ward").select_option(label=WARD)
    page.get_by_label("Category").select_option(label="Fly-tipping")
    expect(page.get_by_label("Emerging problems")).to_be_checked()
    page.get_by_label("New hotspots").uncheck()
    page.get_by_role("button", name="Add alert").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Alert added: you will get emails about emerging problems in Foleshill, fly-tipping."
    )
    row = page.locator("#your-alerts .govuk-summary-list__row").filter(has_text=WARD)
    expect(row).to_contain_text("Foleshill, fly-tipping")
    expect(row).to_contain_text("Emerging problems")
    expect(row).not_to_contain_text("hotspots")
    check(page, axe)
    row.get_by_role("button", name="Remove the alert for Foleshill, fly-tipping").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Alert removed")
    expect(page.locator("#your-alerts")).to_have_count(0)
    assert subscriptions(live_server, officer) == 0


def test_errors_are_summarised_values_kept_and_the_page_passes_axe(
    page_as: Callable[[Person], Page], officer: Person, live_server: LiveServer, axe: Callable[[Page], None]
) -> None:
    """Sent with no ward and no kind ticked, does the page show the error summary (focused,
    linking to the fields), keep the category chosen, and pass axe and reflow?"""
    page = page_as(officer)
    open_page(page, "/alerts", "Alerts")
    page.get_by_label("Category").select_option(label="Graffiti")
    page.get_by_label("Emerging problems").uncheck()
    page.get_by_label("New hotspots").uncheck()
    with page.expect_response(lambda r: r.url.endswith("/alerts") and r.request.method == "POST") as answer:
        page.get_by_role("button", name="Add alert").click()
    assert answer.value.status == 400
    shows_errors(page, "Choose a ward", "Choose at least one kind of alert")
    expect(page.get_by_label("Category")).to_have_value("graffiti")
    check(page, axe)
    assert subscriptions(live_server, officer) == 0


def test_subscribe_and_unsubscribe_with_the_keyboard_only(
    page_as: Callable[[Person], Page], officer: Person, live_server: LiveServer
) -> None:
    """With the keyboard alone (focus always visible), can the officer choose a ward, leave all
    categories, untick one kind, add the alert, then reach its Remove button and remove it?"""
    page = page_as(officer)
    open_page(page, "/alerts", "Alerts")
    page.locator("body").focus()
    tab_to(page, by_id("ward"))
    page.keyboard.type(OTHER_WARD)  # a native select picks the option typed
    assert page.get_by_label("Ward").input_value() == ward_code(live_server, OTHER_WARD)
    tab_to(page, by_id("kinds"))
    page.keyboard.press("Space")  # unticks "Emerging problems"
    expect(page.get_by_label("Emerging problems")).not_to_be_checked()
    tab_to(page, by_name("Add alert"))
    page.keyboard.press("Enter")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Alert added: you will get emails about new hotspots in Longford, all categories."
    )
    page.locator("body").focus()
    info = tab_to(page, by_name("Remove the alert for Longford, all categories"))
    assert info["tag"] == "BUTTON"
    page.keyboard.press("Enter")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Alert removed")
    assert subscriptions(live_server, officer) == 0


def test_watch_a_ward_from_the_dashboard(
    page_as: Callable[[Person], Page], officer: Person, live_server: LiveServer, axe: Callable[[Page], None]
) -> None:
    """On the dashboard with a ward chosen, does "Watch this ward" (reached with the keyboard)
    subscribe the officer, come back to the dashboard with a success banner, then say they are
    watching it with a link to manage alerts, all passing axe?"""
    page = page_as(officer)
    code = ward_code(live_server, WARD)
    open_page(page, f"/dashboard?ward={code}", WARD)
    page.locator("#dashboard-summary").focus()
    tab_to(page, by_name(f"Watch this ward: {WARD}"))
    page.keyboard.press("Enter")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(f"You are now watching {WARD}")
    watching = page.locator("#watch-ward")
    expect(watching).to_contain_text(f"You are watching {WARD}")
    expect(watching.get_by_role("link", name="Manage your alerts")).to_have_attribute("href", "/alerts")
    axe(page)
    watching.get_by_role("link", name="Manage your alerts").click()
    row = page.locator("#your-alerts .govuk-summary-list__row").filter(has_text=WARD)
    expect(row).to_contain_text("Foleshill, all categories")
    row.get_by_role("button", name="Remove the alert for Foleshill, all categories").click()
    assert subscriptions(live_server, officer) == 0
