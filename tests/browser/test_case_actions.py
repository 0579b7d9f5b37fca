"""Actions and the lead hand-off in the browser, end to end: a member claims the lead of a
case, adds an action with a due date on the case page, finds it on "My actions", marks it
done (after being told a note is needed), offers the lead to another organisation, and a
member of that organisation accepts it from its inbox and then sees the reporter's name and
email address, which the old lead no longer sees. axe (WCAG 2.2 AA) and reflow to 320 pixels
wide on each new page and state."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from app.accounts.models import User
from app.coordination import routing
from app.coordination.actions import today
from app.extensions import db
from app.partners.models import Organisation
from app.reports.models import Report
from tests.browser.live import LiveServer, Person, create_person, create_report, organisation_id, overflowing_at
from tests.browser.pages import shows_errors

pytestmark = pytest.mark.browser

LEAD = "NHS Coventry and Warwickshire"
OTHER = "West Midlands Fire Service – Coventry"


def check(page: Page, axe: Callable[[Page], None]) -> None:
    """No axe violations, and nothing but tables runs off the right edge at 320 pixels wide;
    then back to the usual width."""
    axe(page)
    overflowing = overflowing_at(page, 320)
    assert not overflowing, f"at 320px wide, these run off the right edge of {page.url}:\n" + "\n".join(overflowing)
    page.set_viewport_size({"width": 1280, "height": 900})


def route(server: LiveServer, report_id: int, names: tuple[str, ...], *, by: Person) -> None:
    """Route the report to each named organisation from triage, as the administrator ``by``."""
    with server.app.app_context():
        report = db.session.get(Report, report_id)
        admin = db.session.get(User, by.id)
        assert report is not None and admin is not None
        for name in names:
            organisation = db.session.get(Organisation, organisation_id(server, name))
            assert organisation is not None
            routing.route_to(db.session, report, organisation, reason="Routed by a browser test.", by=admin)
        db.session.commit()


def test_an_action_on_my_actions_and_a_hand_off_accepted_by_the_other_organisation(
    live_server: LiveServer,
    page_as: Callable[[Person], Page],
    admin: Person,
    resident: Person,
    axe: Callable[[Page], None],
) -> None:
    """Can a lead member add an action with a due date on the case page, see it on My actions,
    complete it, and hand the lead to another organisation whose member accepts it and then
    sees the reporter's details? Does every page on the way pass axe and reflow?"""
    report_id = create_report(live_server, resident, "Bollard knocked over by the bus stop")
    route(live_server, report_id, (LEAD, OTHER), by=admin)
    lead_member = create_person(
        live_server, name="Leah Lead", memberships=((organisation_id(live_server, LEAD), "member"),)
    )
    other_member = create_person(
        live_server, name="Otto Other", memberships=((organisation_id(live_server, OTHER), "member"),)
    )

    # The lead: claim, then add an action due tomorrow (in London).
    page = page_as(lead_member)
    page.goto(f"/cases/{report_id}")
    page.get_by_role("button", name=re.compile(r"^Claim the lead")).click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("is now the lead partner")
    expect(page.get_by_text(resident.email)).to_be_visible()
    due = today() + dt.timedelta(days=1)
    page.get_by_label("What needs doing?").fill("Make the bollard safe")
    page.get_by_label("Assigned to").select_option(label="Leah Lead")
    due_date = page.get_by_role("group", name="Due date")
    due_date.get_by_label("Day").fill(str(due.day))
    due_date.get_by_label("Month").fill(str(due.month))
    due_date.get_by_label("Year").fill(str(due.year))
    page.get_by_role("button", name="Add action").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Action added: Make the bollard safe.")
    actions = page.locator("#actions + table")
    expect(actions).to_contain_text("Make the bollard safe")
    expect(actions).to_contain_text(f"{due.day} {due:%B %Y}")
    expect(actions).to_contain_text("Planned")
    check(page, axe)

    # My actions lists it, linking to its case.
    page.get_by_role("banner").get_by_role("link", name="My actions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My actions")
    row = page.locator("tbody tr", has_text="Make the bollard safe")
    expect(row).to_contain_text(f"{due.day} {due:%B %Y}")
    expect(row.get_by_role("link", name=re.compile(r"TC-\d{6}"))).to_have_attribute("href", f"/cases/{report_id}")
    check(page, axe)

    # Its page: done needs a note.
    row.get_by_role("link", name="Make the bollard safe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Make the bollard safe")
    check(page, axe)
    page.get_by_role("radio", name="Done").check()
    page.get_by_role("button", name="Save changes").click()
    shows_errors(page, "Say what was done")
    check(page, axe)
    page.get_by_label("Completion note").fill("Bollard propped up and taped off")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Action updated")
    page.goto("/my-actions?show=done")
    expect(page.locator("tbody tr", has_text="Make the bollard safe")).to_contain_text("Done")

    # Offer the lead to the other organisation, after an attempt without a reason.
    page.goto(f"/cases/{report_id}")
    expect(page.get_by_text("When it accepts, it can see the reporter's name and email address")).to_be_visible()
    page.get_by_label("Offer the lead to").select_option(label=f"{OTHER} (demo) (on this case)")
    page.get_by_role("button", name="Offer the lead").click()
    shows_errors(page, "Say why you are offering the lead to this organisation")
    check(page, axe)
    page.get_by_label("Why should it lead?").fill("A fire hazard: the bollard hides a gas valve.")
    page.get_by_role("button", name="Offer the lead").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("You have offered the lead to")
    expect(page.get_by_role("button", name=re.compile(r"^Withdraw the offer"))).to_be_visible()
    check(page, axe)

    # The other organisation: the offer waits in its inbox; accept it.
    other = page_as(other_member)
    other.goto("/inbox")
    banner = other.locator(".govuk-notification-banner", has_text="Lead offered to you")
    expect(banner).to_contain_text(f"{LEAD} (demo) offers you the lead on")
    check(other, axe)
    banner.get_by_role("link", name=re.compile("Bollard knocked over")).click()
    expect(other.get_by_text(f"{LEAD} (demo) has offered the lead to {OTHER} (demo)")).to_be_visible()
    expect(other.get_by_text(resident.email)).to_have_count(0)
    check(other, axe)
    other.get_by_role("button", name=re.compile(r"^Accept the lead")).click()
    expect(other.locator(".govuk-notification-banner")).to_contain_text("is now the lead partner on this case")
    expect(other.get_by_text(resident.email)).to_be_visible()
    expect(other.locator(".govuk-inset-text", has_text="Reporter's personal data")).to_contain_text(
        f"{OTHER} (demo) can see the reporter's name and email address; {LEAD} (demo) no longer can."
    )
    check(other, axe)

    # The old lead no longer sees the reporter's details, and supports the case.
    page.goto(f"/cases/{report_id}")
    expect(page.get_by_text(resident.email)).to_have_count(0)
    expect(page.get_by_text("Only the lead partner sees the reporter's name and email address")).to_be_visible()
    expect(page.get_by_text(f"{OTHER} (demo) accepted the lead from {LEAD} (demo)")).to_be_visible()
