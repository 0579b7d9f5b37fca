"""Response targets in the browser: a coordinator sets their organisation's targets (through a
mistake and its error summary), and the inbox shows what is due and what is overdue; axe and
320-pixel reflow on the targets page and the inbox."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.accounts.models import User
from app.coordination import jobs, routing
from app.coordination.models import ResponseTarget
from app.coordination.queries import load_case
from app.extensions import db
from app.partners.models import Organisation
from app.reports.models import Report, ReportStatus
from tests.browser.live import (
    AXE_JS,
    AXE_TAGS,
    COORDINATED,
    LiveServer,
    Person,
    category_id,
    describe_violations,
    organisation_id,
    overflowing_at,
)
from tests.browser.pages import shows_errors

pytestmark = pytest.mark.browser

# Another demo organisation, so that this test's report is not in COORDINATED's inbox.
SECOND_ORGANISATION = "NHS Coventry and Warwickshire"


def check(page: Page, axe: Callable[[Page], None]) -> None:
    """No axe violations, and nothing but tables runs off the right edge at 320 pixels wide."""
    axe(page)
    overflowing = overflowing_at(page, 320)
    assert not overflowing, f"at 320px wide, these run off the right edge of {page.url}:\n" + "\n".join(overflowing)


def route_overdue(server: LiveServer, org_id: int, *, by: Person) -> int:
    """Route a new demo report that nobody has yet to ``org_id`` as if 10 days ago (through
    triage, as ``by``), so its acknowledgement is long overdue and due to be escalated;
    returns its id."""
    with server.app.app_context():
        organisation = db.session.get(Organisation, org_id)
        admin = db.session.get(User, by.id)
        assert organisation is not None and admin is not None
        candidates = db.session.scalars(
            select(Report)
            .where(Report.source == "demo", Report.published_at.is_not(None), Report.status == ReportStatus.NEW)
            # The oldest: first in the triage queue (oldest first), whatever else is waiting there.
            .order_by(Report.published_at, Report.id)
        )
        for report in candidates:
            case = load_case(db.session, report.id)
            if case is not None and not case.organisation_ids:
                routing.route_to(
                    db.session,
                    report,
                    organisation,
                    reason="Routed by the targets browser test.",
                    by=admin,
                    now=dt.datetime.now(dt.UTC) - dt.timedelta(days=10),
                )
                db.session.commit()
                return int(report.id)
    raise AssertionError("no demo report is free to route")


def test_a_coordinator_sets_targets_and_the_inbox_shows_what_is_overdue(
    live_server: LiveServer,
    page_as: Callable[[Person], Page],
    coordinator: Person,
    admin: Person,
    axe: Callable[[Page], None],
) -> None:
    """Can a coordinator open their organisation's targets from its page, be shown what to fix
    (axe-clean, with the error summary), save "acknowledge within 2 working hours, resolve within
    5 working days" for fly-tipping, and then see an overdue report marked in the inbox's Due
    column, also with "overdue only" (all axe-clean and reflowing at 320 pixels)?"""
    org_id = organisation_id(live_server, COORDINATED)
    overdue = route_overdue(live_server, org_id, by=admin)
    fly = category_id(live_server, "fly-tipping")
    page = page_as(coordinator)
    page.goto(f"/organisations/{org_id}")
    page.get_by_role("link", name="Response targets for each category").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Response targets")
    expect(page.get_by_text("Monday to Friday, 8am to 6pm", exact=True)).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"A report routed at 4pm on Friday \d+ \w+ is due to be acknowledged by"))
    ).to_be_visible()
    check(page, axe)

    page.set_viewport_size({"width": 1280, "height": 900})
    group = page.get_by_role("group", name="Fly-tipping")
    group.get_by_label("Acknowledge within (working hours)").fill("soon")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Save targets").click()
    assert answer.value.status == 400
    shows_errors(page, "Fly-tipping: acknowledge within working hours must be a whole number of working hours, like 8")
    expect(group.get_by_label("Acknowledge within (working hours)")).to_have_value("soon")
    check(page, axe)

    page.set_viewport_size({"width": 1280, "height": 900})
    group.get_by_label("Acknowledge within (working hours)").fill("2")
    group.get_by_label("Resolve within (working days)").fill("5")
    page.get_by_role("button", name="Save targets").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Targets saved for Fly-tipping")
    expect(page.get_by_role("group", name="Fly-tipping")).to_contain_text("its own targets")
    with live_server.app.app_context():
        saved = db.session.scalar(
            select(ResponseTarget).where(ResponseTarget.organisation_id == org_id, ResponseTarget.category_id == fly)
        )
        assert saved is not None and (saved.acknowledge_minutes, saved.resolve_days) == (120, 5)

    page.goto(f"/inbox?org={org_id}")
    expect(page.get_by_role("columnheader", name="Due")).to_be_visible()
    row = page.get_by_role("row").filter(has=page.locator(f"a[href='/cases/{overdue}']"))
    expect(row.get_by_text("Overdue", exact=True)).to_be_visible()
    expect(row).to_contain_text(re.compile(r"Overdue by \d+ days"))
    check(page, axe)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_label("Overdue only").check()
    page.get_by_label("Sort by").select_option("due")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"overdue=1.*sort=due"))
    expect(page.locator(f"a[href='/cases/{overdue}']")).to_be_visible()
    expect(page.locator("tbody .govuk-tag", has_text="On track")).to_have_count(0)
    check(page, axe)


def axe_within(page: Page, selector: str) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.2 A and AA violations inside ``selector`` only (this feature's part
    of a page that other parts share)."""
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate(
        """([selector, tags]) => axe.run({include: [selector]}, {runOnly: {type: "tag", values: tags}})""",
        [selector, AXE_TAGS],
    )
    return list(result["violations"])


def test_an_administrator_escalates_and_marks_a_case_high_risk(
    live_server: LiveServer, page_as: Callable[[Person], Page], admin: Person, axe: Callable[[Page], None]
) -> None:
    """After the escalation job, does the triage queue show the overdue report as "Escalated"
    (axe-clean), and can an administrator mark it high risk from its case page, shown what to
    fix when the reason is missing, with the response times panel axe-clean throughout?"""
    org_id = organisation_id(live_server, SECOND_ORGANISATION)
    overdue = route_overdue(live_server, org_id, by=admin)
    with live_server.app.app_context():
        result = jobs.run_job(db.session, jobs.JOBS["escalation"], force=True)
        assert result is not None and result.ok, result
    page = page_as(admin)
    page.goto("/triage")
    row = page.get_by_role("row").filter(has=page.locator(f"a[href='/cases/{overdue}']"))
    expect(row.get_by_text("Escalated", exact=True)).to_be_visible()
    expect(row).to_contain_text("Not acknowledged by")
    check(page, axe)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/cases/{overdue}")
    panel = page.locator("#response-times-panel")
    expect(panel).to_contain_text("Escalated to council triage")
    expect(panel.get_by_text("Overdue", exact=True).first).to_be_visible()
    panel.get_by_label("High risk").check()
    with page.expect_response(lambda r: r.url.endswith("/priority")) as answer:
        panel.get_by_role("button", name="Change the priority").click()
    assert answer.value.status == 400
    shows_errors(page, "Say why the priority is changing")
    expect(page.locator("#response-times-panel").get_by_label("High risk")).to_be_checked()
    violations = axe_within(page, "#response-times-panel")
    assert not violations, describe_violations(violations)
    page.locator("#priority-reason").fill("Threats made to the resident")
    page.locator("#response-times-panel").get_by_role("button", name="Change the priority").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("is now high risk")
    expect(page.locator("#response-times-panel")).to_contain_text("High risk")
    violations = axe_within(page, "#response-times-panel")
    assert not violations, describe_violations(violations)
