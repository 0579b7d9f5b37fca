"""axe-core (WCAG 2.2 A and AA rules) and reflow to 320 pixels wide (WCAG 1.4.10) on the
partner coordination pages: the inbox of a demo organisation with reports routed to it, the
organisation chooser, a case with its claim and decline buttons (and after a decline with no
reason), and, for a council administrator, the triage queue and a case waiting in it."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.accounts.models import User
from app.coordination import routing
from app.coordination.queries import load_case
from app.extensions import db
from app.partners.models import Organisation
from app.reports.models import Report, ReportStatus
from tests.browser.live import COORDINATED, LiveServer, Person, create_person, organisation_id, overflowing_at
from tests.browser.pages import shows_errors

pytestmark = pytest.mark.browser

ROUTED = 3
SECOND_ORGANISATION = "Friends of Coventry Parks"


def route_reports(server: LiveServer, org_id: int, *, by: Person, count: int) -> list[int]:
    """Route the ``count`` oldest new, published demo reports that ``org_id`` does not have yet
    to it through triage (``routing.route_to``, as ``by``, an administrator); returns their ids."""
    with server.app.app_context():
        organisation = db.session.get(Organisation, org_id)
        admin = db.session.get(User, by.id)
        assert organisation is not None and admin is not None
        candidates = db.session.scalars(
            select(Report)
            .where(Report.source == "demo", Report.published_at.is_not(None), Report.status == ReportStatus.NEW)
            .order_by(Report.id)
        )
        routed: list[int] = []
        for report in candidates:
            case = load_case(db.session, report.id)
            if case is not None and case.organisation_ids:
                continue
            routing.route_to(db.session, report, organisation, reason="Routed by a browser test.", by=admin)
            routed.append(int(report.id))
            if len(routed) == count:
                break
        db.session.commit()
    assert len(routed) == count, f"only {len(routed)} demo reports could be routed"
    return routed


def in_triage(server: LiveServer, *, besides: list[int]) -> int:
    """A new demo report that no organisation has (so it waits in triage), not in ``besides``."""
    with server.app.app_context():
        ids = db.session.scalars(
            select(Report.id)
            .where(Report.source == "demo", Report.published_at.is_not(None), Report.status == ReportStatus.NEW)
            .order_by(Report.id.desc())
        )
        for report_id in ids:
            case = load_case(db.session, report_id)
            if report_id not in besides and (case is None or case.in_triage):
                return int(report_id)
    raise AssertionError("no demo report waits in triage")


@pytest.fixture(scope="module")
def org_id(live_server: LiveServer) -> int:
    return organisation_id(live_server, COORDINATED)


@pytest.fixture(scope="module")
def routed(live_server: LiveServer, org_id: int, admin: Person) -> list[int]:
    """Reports routed to the demo organisation COORDINATED (the live server loads no cases)."""
    return route_reports(live_server, org_id, by=admin, count=ROUTED)


@pytest.fixture(scope="module")
def member(live_server: LiveServer, org_id: int) -> Person:
    """A member (not a coordinator) of COORDINATED only."""
    return create_person(live_server, name="Mo Member", memberships=((org_id, "member"),))


@pytest.fixture(scope="module")
def member_of_two(live_server: LiveServer, org_id: int) -> Person:
    """A member of COORDINATED and of a second demo organisation."""
    other = organisation_id(live_server, SECOND_ORGANISATION)
    return create_person(live_server, name="Tam Twoorgs", memberships=((org_id, "member"), (other, "member")))


def check(page: Page, axe: Callable[[Page], None]) -> None:
    """No axe violations, and nothing but tables runs off the right edge at 320 pixels wide."""
    axe(page)
    overflowing = overflowing_at(page, 320)
    assert not overflowing, f"at 320px wide, these run off the right edge of {page.url}:\n" + "\n".join(overflowing)


def open_page(page: Page, path: str, heading: str | re.Pattern[str], *, status: int = 200) -> None:
    response = page.goto(path)
    assert response is not None and response.status == status, f"{path}: {response and response.status}"
    expect(page.get_by_role("heading", level=1)).to_contain_text(heading)


def test_inbox_has_no_axe_violations(
    page_as: Callable[[Person], Page], member: Person, routed: list[int], org_id: int, axe: Callable[[Page], None]
) -> None:
    """Does a member's inbox, listing the reports routed to their organisation, pass axe and
    reflow to 320 pixels wide?"""
    page = page_as(member)
    open_page(page, "/inbox", COORDINATED)
    for report_id in routed:
        expect(page.locator(f"a[href='/cases/{report_id}']")).to_be_visible()
    check(page, axe)


def test_filtered_inbox_has_no_axe_violations(
    page_as: Callable[[Person], Page], member: Person, routed: list[int], org_id: int, axe: Callable[[Page], None]
) -> None:
    """Does the inbox with filters applied (unclaimed new reports, newest first), as chosen
    in its filter form, pass axe and reflow to 320 pixels wide?"""
    page = page_as(member)
    open_page(page, f"/inbox?org={org_id}", COORDINATED)
    page.get_by_label("Status").select_option(ReportStatus.NEW.value)
    page.get_by_label("Unclaimed only").check()
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"status=new.*unclaimed=1"))
    expect(page.locator(f"a[href='/cases/{routed[0]}']")).to_be_visible()
    check(page, axe)


def test_inbox_chooser_has_no_axe_violations(
    page_as: Callable[[Person], Page], member_of_two: Person, axe: Callable[[Page], None]
) -> None:
    """Does the organisation chooser, for someone in two organisations, pass axe and reflow
    to 320 pixels wide?"""
    page = page_as(member_of_two)
    open_page(page, "/inbox", "Choose an inbox")
    expect(page.get_by_role("link", name=re.compile(COORDINATED))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(SECOND_ORGANISATION))).to_be_visible()
    check(page, axe)


def test_case_has_no_axe_violations(
    page_as: Callable[[Person], Page], member: Person, routed: list[int], axe: Callable[[Page], None]
) -> None:
    """Does a case routed to a member's organisation, with its claim, support and decline
    buttons, pass axe and reflow to 320 pixels wide?"""
    page = page_as(member)
    open_page(page, f"/cases/{routed[0]}", re.compile(r"\S"))
    expect(page.get_by_role("button", name=re.compile(r"^Claim the lead"))).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"^Decline"))).to_be_visible()
    check(page, axe)


def test_case_decline_errors_have_no_axe_violations(
    page_as: Callable[[Person], Page], member: Person, routed: list[int], axe: Callable[[Page], None]
) -> None:
    """After declining a case without saying why, does the page with its error summary pass
    axe and reflow to 320 pixels wide (and the case stay routed)?"""
    page = page_as(member)
    open_page(page, f"/cases/{routed[1]}", re.compile(r"\S"))
    with page.expect_response(lambda r: r.url.endswith("/decline") and r.request.method == "POST") as answer:
        page.get_by_role("button", name=re.compile(r"^Decline")).click()
    assert answer.value.status == 400
    shows_errors(page, "Say why your organisation is declining this report")
    check(page, axe)


def test_triage_has_no_axe_violations(
    page_as: Callable[[Person], Page], admin: Person, routed: list[int], axe: Callable[[Page], None]
) -> None:
    """Does the council triage queue, for an administrator, pass axe and reflow to 320 pixels wide?"""
    page = page_as(admin)
    open_page(page, "/triage", "Council triage")
    expect(page.locator("table.govuk-table a.govuk-link").first).to_be_visible()
    check(page, axe)


def test_triage_case_has_no_axe_violations(
    live_server: LiveServer,
    page_as: Callable[[Person], Page],
    admin: Person,
    routed: list[int],
    axe: Callable[[Page], None],
) -> None:
    """Does a case waiting in triage, with its form to route it, pass axe and reflow to 320
    pixels wide for an administrator?"""
    page = page_as(admin)
    open_page(page, f"/cases/{in_triage(live_server, besides=routed)}", re.compile(r"\S"))
    expect(page.get_by_role("button", name="Route this report")).to_be_visible()
    check(page, axe)


def test_routed_case_as_admin_has_no_axe_violations(
    page_as: Callable[[Person], Page], admin: Person, routed: list[int], axe: Callable[[Page], None]
) -> None:
    """Does a case routed to an organisation, seen by an administrator (who routes but does
    not act for an organisation), pass axe and reflow to 320 pixels wide?"""
    page = page_as(admin)
    open_page(page, f"/cases/{routed[2]}", re.compile(r"\S"))
    expect(page.get_by_role("button", name="Route this report")).to_be_visible()
    check(page, axe)
