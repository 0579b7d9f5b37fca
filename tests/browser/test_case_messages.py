"""Public updates in the browser: the lead partner posts one that changes the status on the case
page (after a refused closure that names what is missing) and it shows on the public report
page; the resident follows the emailed link to reply and to reopen the resolved report. axe
checks each page, and reflow to 320 pixels wide (on the public page, of its updates section)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from app.accounts.models import User
from app.coordination import routing
from app.coordination.claims import claim_case
from app.coordination.lifecycle import Actor
from app.coordination.queries import load_case
from app.coordination.status import change_status
from app.extensions import db
from app.partners.models import Organisation
from app.reports.models import Report
from tests.browser.journeys import emailed_link
from tests.browser.live import (
    COORDINATED,
    LiveServer,
    Person,
    axe_violations,
    create_person,
    create_report,
    describe_violations,
    organisation_id,
    overflowing_at,
    unique_email,
)
from tests.browser.pages import shows_errors

pytestmark = pytest.mark.browser


def check_public(page: Page) -> None:
    """No axe violations on a public report page, and its updates and forms fit 320 pixels wide
    (the page's map is not checked here: it is the report page's, not this feature's)."""
    violations = axe_violations(page)
    assert not violations, f"axe found accessibility violations on {page.url}:\n{describe_violations(violations)}"
    page.set_viewport_size({"width": 320, "height": 800})
    wider = page.evaluate(
        """() => [...document.querySelectorAll("#updates ~ *, #updates ~ * *")]
            .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
            .map(el => el.tagName.toLowerCase() + "#" + el.id)"""
    )
    assert not wider, f"at 320px wide, these run off the right edge of {page.url}: {wider}"
    page.set_viewport_size({"width": 1280, "height": 900})


def check(page: Page) -> None:
    """No axe violations (``axe_violations`` passes over GOV.UK Frontend's known objection to
    its conditional reveal, used by the status and closing-reason radios), and nothing but
    tables runs off the right edge at 320 pixels wide."""
    violations = axe_violations(page)
    assert not violations, f"axe found accessibility violations on {page.url}:\n{describe_violations(violations)}"
    overflowing = overflowing_at(page, 320)
    assert not overflowing, f"at 320px wide, these run off the right edge of {page.url}:\n" + "\n".join(overflowing)
    page.set_viewport_size({"width": 1280, "height": 900})


def led_report(server: LiveServer, *, reporter: Person, lead: Person, org_id: int, admin: Person) -> int:
    """A report by ``reporter``, routed to ``org_id`` from triage and led by ``lead`` (which
    acknowledges it and emails the reporter); returns its id."""
    report_id = create_report(server, reporter, "Broken paving outside the library")
    with server.app.app_context():
        report = db.session.get(Report, report_id)
        organisation = db.session.get(Organisation, org_id)
        by_admin, by_lead = db.session.get(User, admin.id), db.session.get(User, lead.id)
        assert report and organisation and by_admin and by_lead
        if not (case := load_case(db.session, report_id)) or organisation.id not in case.organisation_ids:
            routing.route_to(db.session, report, organisation, reason="Routed by a browser test.", by=by_admin)
        claim_case(db.session, report, organisation, role="lead", by=by_lead)
        db.session.commit()
    return report_id


@pytest.fixture(scope="module")
def org_id(live_server: LiveServer) -> int:
    return organisation_id(live_server, COORDINATED)


@pytest.fixture(scope="module")
def lead(live_server: LiveServer, org_id: int) -> Person:
    """A member of the demo organisation COORDINATED, which leads the reports below."""
    return create_person(live_server, name="Lee Leadmember", memberships=((org_id, "member"),))


def test_a_public_update_with_a_status_change_shows_on_the_public_page(
    live_server: LiveServer,
    page_as: Callable[[Person], Page],
    new_page: Callable[[], Page],
    lead: Person,
    admin: Person,
    org_id: int,
) -> None:
    """Does the lead partner, on the case page, get told what a closure lacks (the conditional
    fields revealed, the text kept), then post an update marking the report in progress, which
    the public sees on the report page? axe and reflow on the case page (with its errors and
    after posting) and on the public page."""
    reporter = create_person(live_server, name="Rae Reporter", email=unique_email("rae"))
    report_id = led_report(live_server, reporter=reporter, lead=lead, org_id=org_id, admin=admin)
    page = page_as(lead)
    response = page.goto(f"/cases/{report_id}")
    assert response is not None and response.status == 200
    update = page.get_by_label("Public update", exact=True)
    expect(page.get_by_role("heading", name="Post a public update")).to_be_visible()
    # With JavaScript the closing reasons appear only once "Closed" is chosen.
    status = page.get_by_role("group", name="Change the status?")
    reasons = page.get_by_role("group", name="Why is it being closed?")
    expect(reasons).to_be_hidden()
    status.get_by_role("radio", name="Closed").check()
    expect(reasons).to_be_visible()
    reasons.get_by_role("radio", name="Duplicate of another report").check()
    update.fill("Someone else reported this first.")
    with page.expect_response(lambda r: r.url.endswith("/updates") and r.request.method == "POST") as answer:
        page.get_by_role("button", name="Post public update").click()
    assert answer.value.status == 400
    shows_errors(page, "Say which report this one duplicates.")
    expect(page.get_by_label("Which report does it duplicate?", exact=True)).to_be_visible()
    expect(page.get_by_label("Public update", exact=True)).to_have_value("Someone else reported this first.")
    check(page)

    page.get_by_role("group", name="Change the status?").get_by_role("radio", name="In progress").check()
    page.get_by_label("Public update", exact=True).fill("A crew will relay the slabs on Thursday.\nPlease keep clear.")
    page.get_by_role("button", name="Post public update").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("is now in progress")
    expect(page.locator("#messages ~ ol")).to_contain_text("A crew will relay the slabs on Thursday.")
    check(page)

    public = new_page()
    response = public.goto(f"/reports/{report_id}")
    assert response is not None and response.status == 200
    updates = public.get_by_role("list", name="Updates, oldest first")
    expect(updates).to_contain_text("Status changed to in progress")
    expect(updates).to_contain_text("A crew will relay the slabs on Thursday.")
    expect(updates).to_contain_text(COORDINATED)
    expect(public.get_by_role("heading", name="Reply to the updates")).to_have_count(0)
    check_public(public)


def test_the_resident_replies_and_reopens_from_the_emailed_link(
    live_server: LiveServer,
    page: Page,
    lead: Person,
    admin: Person,
    org_id: int,
) -> None:
    """Does the resident, without signing in, open the link in the resolution email, reply,
    and reopen the report (after being told to say why)? axe and reflow on the reporter's
    page, with and without its error summary."""
    reporter = create_person(live_server, name="Ray Resident", email=unique_email("ray"))
    report_id = led_report(live_server, reporter=reporter, lead=lead, org_id=org_id, admin=admin)
    with live_server.app.app_context():
        case = load_case(db.session, report_id)
        by_lead, organisation = db.session.get(User, lead.id), db.session.get(Organisation, org_id)
        assert case and by_lead and organisation
        change_status(
            db.session,
            case,
            "resolved",
            by=by_lead,
            organisation=organisation,
            actor=Actor.LEAD_PARTNER,
            note="The slabs are relaid.",
        )
        db.session.commit()
    link = emailed_link(live_server, reporter.email, "case_update", f"/reports/{report_id}/reply/")
    page.goto(link)
    expect(page.get_by_role("heading", name="This is not fixed: reopen it")).to_be_visible()
    check_public(page)

    page.get_by_label("Your reply").fill("Thank you for the quick work.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Your reply has been sent")
    expect(page.get_by_role("list", name="Updates, oldest first")).to_contain_text("Thank you for the quick work.")

    with page.expect_response(lambda r: r.url.endswith("/reopen") and r.request.method == "POST") as answer:
        page.get_by_role("button", name="Reopen the report").click()
    assert answer.value.status == 400
    shows_errors(page, "Say what is still wrong, so they know what to do.")
    check_public(page)
    page.get_by_label("What is still wrong?").fill("One slab still rocks when you step on it.")
    page.get_by_role("button", name="Reopen the report").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Your report is reopened")
    expect(page.get_by_role("list", name="Updates, oldest first")).to_contain_text(re.compile("One slab still rocks"))
