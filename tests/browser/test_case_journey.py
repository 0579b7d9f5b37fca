"""The whole shared-case journey in the browser, as issue 5 describes it:

1. a resident reports a concern (without an account, confirming by email);
2. two organisations receive it; one claims the lead, the other supports;
3. the lead adds an action with a due date and posts a public update; the resident sees it on
   the report page and receives the email (delivered over SMTP to a real local server);
4. the lead hands off; the other organisation accepts;
5. the new lead resolves the case; the resident reopens it from the link in the email.

axe (WCAG 2.2 AA) runs on every page on the way.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.coordination.actions import today
from app.extensions import db
from app.geography.models import Postcode
from app.mail.worker import deliver_due
from app.partners.models import Organisation, OrganisationCategory, OrganisationWard
from app.reports.models import Category, Report
from tests.browser.journeys import fill_details, report_by_postcode, send_report
from tests.browser.live import LiveServer, Person, create_person, unique_email, unique_name
from tests.mail.conftest import LocalSMTPServer, Received

pytestmark = pytest.mark.browser

POSTCODE = "CV1 5RR"
CATEGORY_SLUG = "graffiti"


@pytest.fixture
def smtp() -> Iterator[LocalSMTPServer]:
    server = LocalSMTPServer()
    server.start()
    yield server
    server.stop()


def partner_organisation(server: LiveServer, name: str, *, ward: str, category_id: int) -> tuple[int, str]:
    """An organisation covering ``ward`` and the category; returns its id and contact address."""
    contact = unique_email("contact")
    with server.app.app_context():
        organisation = Organisation(
            name=name,
            sector="council",
            contact_email=contact,
            working_hours="24 hours, 7 days a week",
        )
        db.session.add(organisation)
        db.session.flush()
        db.session.add(OrganisationWard(organisation_id=organisation.id, ward_code=ward))
        db.session.add(OrganisationCategory(organisation_id=organisation.id, category_id=category_id))
        db.session.commit()
        return int(organisation.id), contact


def deliver(server: LiveServer, smtp: LocalSMTPServer) -> None:
    """Run the mail worker until the outbox has nothing due: every email goes over SMTP."""
    with server.app.app_context():
        while deliver_due(db.session, smtp.transport(), sender=server.app.config["MAIL_FROM"]).attempted:
            pass


def received_by(smtp: LocalSMTPServer, address: str, subject: str) -> Received:
    found = [m for m in smtp.received if address in m.rcpt_tos and subject in str(m.message["Subject"])]
    assert found, f"no email to {address} about {subject!r}: {[str(m.message['Subject']) for m in smtp.received]}"
    return found[-1]


def text_of(message: Received) -> str:
    part = message.message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_a_report_shared_by_two_organisations_from_report_to_reopening(
    live_server: LiveServer,
    page: Page,
    page_as: Callable[[Person], Page],
    smtp: LocalSMTPServer,
    axe: Callable[[Page], None],
) -> None:
    """Does a report made on the site reach both organisations that cover it, and can one lead
    (with an action and a public update the resident sees on the page and by email), hand the
    lead to the other, which resolves it, and can the resident reopen it from the emailed link?
    Does every page on the way pass axe?"""
    with live_server.app.app_context():
        ward = db.session.scalar(sa.select(Postcode.ward_code).where(Postcode.postcode == POSTCODE))
        category = db.session.scalar(sa.select(Category).where(Category.slug == CATEGORY_SLUG))
        assert ward is not None and category is not None
        category_id, category_name = category.id, category.name
    first_name, second_name = unique_name("Journey Street Services"), unique_name("Journey Community Safety")
    first_id, first_contact = partner_organisation(live_server, first_name, ward=ward, category_id=category_id)
    second_id, _ = partner_organisation(live_server, second_name, ward=ward, category_id=category_id)
    first_member = create_person(live_server, name="Fay First", memberships=((first_id, "member"),))
    second_member = create_person(live_server, name="Sid Second", memberships=((second_id, "member"),))
    resident_email = unique_email("journey.resident")

    # 1. The resident reports, without an account, and confirms by email.
    report_by_postcode(page, POSTCODE)
    axe(page)
    fill_details(
        page,
        category=category_name,
        summary="Graffiti all over the bus shelter",
        details="Spray paint across the glass and the timetable.",
        email=resident_email,
    )
    reference = send_report(page, live_server)
    axe(page)
    report_id = int(reference.removeprefix("TC-"))

    # 2. Both organisations have it in their inboxes; the first leads, the second supports.
    first = page_as(first_member)
    first.goto(f"/inbox?org={first_id}")
    expect(first.locator("tr", has_text=reference).get_by_role("link").first).to_be_visible()
    axe(first)
    second = page_as(second_member)
    second.goto(f"/inbox?org={second_id}")
    second.locator("tr", has_text=reference).get_by_role("link").first.click()
    expect(second).to_have_url(re.compile(rf"/cases/{report_id}$"))

    first.goto(f"/cases/{report_id}")
    first.get_by_role("button", name=re.compile(r"^Claim the lead")).click()
    expect(first.locator(".govuk-notification-banner")).to_contain_text("is now the lead partner")
    second.get_by_role("button", name=re.compile(r"^Support this case")).click()
    expect(second.locator(".govuk-notification-banner")).to_contain_text("is now the supporting partner")
    axe(second)

    # 3. The lead adds an action due tomorrow and posts a public update.
    due = today() + dt.timedelta(days=1)
    first.reload()
    first.get_by_label("What needs doing?").fill("Clean the bus shelter glass")
    first.get_by_label("Assigned to").select_option(label="Fay First")
    first.get_by_label("Day").fill(str(due.day))
    first.get_by_label("Month").fill(str(due.month))
    first.get_by_label("Year").fill(str(due.year))
    first.get_by_role("button", name="Add action").click()
    expect(first.get_by_role("link", name="Clean the bus shelter glass")).to_be_visible()
    update = "Our cleaning team will remove the graffiti on Thursday."
    first.get_by_label("Public update").fill(update)
    first.get_by_role("group", name="Change the status?").get_by_label("In progress").check()
    first.get_by_role("button", name="Post public update").click()
    expect(first.locator("#messages ~ ol, #messages + ol").first).to_contain_text(update)
    axe(first)

    page.goto(f"/reports/{report_id}")
    expect(page.get_by_text(update)).to_be_visible()
    expect(page.get_by_text("In progress").first).to_be_visible()
    axe(page)
    deliver(live_server, smtp)
    email = received_by(smtp, resident_email, reference)
    assert update in text_of(email)

    # 4. The lead hands off to the second organisation, which accepts.
    first.reload()
    first.get_by_label("Offer the lead to").select_option(label=f"{second_name} (on this case)")
    first.get_by_label("Why should it lead?").fill("It is part of your estate improvement work.")
    first.get_by_role("button", name="Offer the lead").click()
    expect(first.get_by_role("button", name=re.compile(r"^Withdraw the offer"))).to_be_visible()
    axe(first)
    second.goto(f"/inbox?org={second_id}")
    expect(second.get_by_text("Lead offered to you").first).to_be_visible()
    second.goto(f"/cases/{report_id}")
    second.get_by_role("button", name=re.compile(r"^Accept the lead")).click()
    expect(second.get_by_text(resident_email)).to_be_visible()
    axe(second)
    deliver(live_server, smtp)
    assert any(first_contact in m.rcpt_tos for m in smtp.received), "the old lead is told"

    # 5. The new lead resolves it; the resident reopens it from the emailed link.
    second.get_by_label("Public update").fill("The shelter has been cleaned and the glass replaced.")
    second.get_by_role("group", name="Change the status?").get_by_label("Resolved").check()
    second.get_by_role("button", name="Post public update").click()
    expect(second.get_by_text("The shelter has been cleaned and the glass replaced.").first).to_be_visible()
    deliver(live_server, smtp)
    resolved = text_of(received_by(smtp, resident_email, reference))
    assert "The shelter has been cleaned" in resolved
    link = re.search(r"https?://\S+/reports/\d+/reply/\S+", resolved)
    assert link, resolved
    page.goto(link.group(0))
    axe(page)
    page.get_by_label("What is still wrong?").fill("The timetable is still covered in paint.")
    page.get_by_role("button", name="Reopen the report").click()
    expect(page.get_by_text("The timetable is still covered in paint.").first).to_be_visible()
    axe(page)
    with live_server.app.app_context():
        report = db.session.get(Report, report_id)
        assert report is not None
        assert report.status.value == "in_progress"
