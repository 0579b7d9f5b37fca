"""Response deadlines per route and per case: several routes with their own hours and targets,
the lead and a change of lead, priority, declines, unreadable working hours, new working hours,
and recomputing many cases at once in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.coordination import deadlines
from app.coordination.claims import claim_case, decline_case
from app.coordination.models import CaseClaim, ClaimRole, ResponseTarget
from app.coordination.priority import set_priority
from app.coordination.queries import load_case
from app.coordination.working_time import LONDON
from app.partners.models import Organisation
from app.partners.services import update_contact_details
from app.reports.models import Category, Report, ReportStatus
from tests.coordination.conftest import Partners

MakeReport = Callable[..., Report]
UTC = dt.UTC


def london(year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    """UK local wall-clock time, as UTC."""
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=LONDON).astimezone(UTC)


SATURDAY = london(2026, 11, 21, 10, 0)
TUESDAY = london(2026, 11, 17, 10, 0)


def set_target(
    db_session: Session,
    organisation: Organisation,
    slug: str,
    *,
    ack_minutes: int | None = None,
    ack_days: int | None = None,
    resolve_minutes: int | None = None,
    resolve_days: int | None = None,
) -> None:
    category_id = db_session.scalar(sa.select(Category.id).where(Category.slug == slug))
    assert category_id is not None
    db_session.add(
        ResponseTarget(
            organisation_id=organisation.id,
            category_id=category_id,
            acknowledge_minutes=ack_minutes,
            acknowledge_days=ack_days,
            resolve_minutes=resolve_minutes,
            resolve_days=resolve_days,
        )
    )
    db_session.flush()


def route_due(db_session: Session, report: Report, organisation: Organisation) -> dt.datetime | None:
    case = load_case(db_session, report.id)
    assert case is not None
    route = case.route_of(organisation)
    assert route is not None
    return route.acknowledge_due_at


def test_each_route_is_due_in_its_own_organisations_working_time_and_targets(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """With the police working round the clock to a 2-hour target and the council office hours
    to a 4-hour one, is a report routed at 10am on Saturday due with the police at noon, with
    the council at 1pm on Monday, and the report itself at the earlier of the two?"""
    partners.police.working_hours = "24 hours, 7 days a week"
    set_target(db_session, partners.police, "fly-tipping", ack_minutes=120, resolve_days=3)
    set_target(db_session, partners.council, "fly-tipping", ack_minutes=240, resolve_days=5)
    report = make_report(created_at=SATURDAY)
    assert route_due(db_session, report, partners.police) == london(2026, 11, 21, 12, 0)
    assert route_due(db_session, report, partners.council) == london(2026, 11, 23, 13, 0)
    assert report.acknowledge_due_at == london(2026, 11, 21, 12, 0)
    assert report.resolve_due_at is None  # nobody leads it yet


def test_the_lead_sets_the_resolution_deadline_and_a_new_lead_changes_it(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Does claiming the lead give the report the lead's resolve target counted from publication,
    keep the acknowledgement deadline once acknowledged, and does a new lead bring its own?"""
    partners.police.working_hours = "24 hours, 7 days a week"
    set_target(db_session, partners.police, "fly-tipping", ack_minutes=120, resolve_days=3)
    set_target(db_session, partners.council, "fly-tipping", ack_minutes=240, resolve_days=5)
    report = make_report(created_at=SATURDAY)
    claim_case(db_session, report, partners.council, role="lead", by=partners.council_member, now=SATURDAY)
    # Day one is Monday (Saturday is not worked); five working days end at 5pm on Friday.
    assert report.resolve_due_at == london(2026, 11, 27, 17, 0)
    assert report.acknowledged_at == SATURDAY and report.acknowledge_due_at == london(2026, 11, 21, 12, 0)
    # The lead passes to the police (as an accepted hand-off does): Sunday to Tuesday, round the clock.
    claims = {c.organisation_id: c for c in db_session.scalars(sa.select(CaseClaim))}
    claims[partners.council.id].role = ClaimRole.SUPPORTING
    db_session.flush()
    db_session.add(CaseClaim(report_id=report.id, organisation_id=partners.police.id, role=ClaimRole.LEAD))
    db_session.flush()
    deadlines.refresh(db_session, report)
    assert report.resolve_due_at == london(2026, 11, 25, 0, 0)
    assert report.acknowledge_due_at == london(2026, 11, 21, 12, 0)


def test_high_risk_shortens_the_deadlines_and_standard_restores_them(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Does marking a case high risk bring acknowledgement to 1 working day and resolution to
    half the standard 20 working days, and marking it standard again put them back?"""
    report = make_report(created_at=TUESDAY)
    assert report.acknowledge_due_at == london(2026, 11, 19, 17, 0)  # 2 working days from Wednesday
    claim_case(db_session, report, partners.police, role="supporting", by=partners.police_member)
    case = load_case(db_session, report.id)
    assert case is not None
    set_priority(db_session, case, "high", reason="A child was hurt", by=partners.admin)
    assert report.acknowledge_due_at == london(2026, 11, 18, 17, 0)
    assert route_due(db_session, report, partners.police) == london(2026, 11, 18, 17, 0)
    claim_case(db_session, report, partners.council, role="lead", by=partners.council_member)
    assert report.resolve_due_at == london(2026, 12, 1, 17, 0)  # 10 working days from Wednesday
    case = load_case(db_session, report.id)
    assert case is not None
    set_priority(db_session, case, "standard", reason="Made safe", by=partners.council_member)
    assert report.resolve_due_at == london(2026, 12, 15, 17, 0)  # 20 working days
    # Acknowledged already: the acknowledgement deadline it was measured against stays.
    assert report.acknowledge_due_at == london(2026, 11, 18, 17, 0)


def test_a_declined_route_has_no_deadline_and_the_report_takes_the_others(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """When the organisation with the earliest deadline declines, does its route lose its
    deadline and the report take the remaining organisation's; and none once all decline?"""
    set_target(db_session, partners.council, "fly-tipping", ack_minutes=60, resolve_days=5)
    report = make_report(created_at=TUESDAY)
    assert report.acknowledge_due_at == london(2026, 11, 17, 11, 0)
    decline_case(db_session, report, partners.council, reason="Not ours", by=partners.council_member)
    assert route_due(db_session, report, partners.council) is None
    assert report.acknowledge_due_at == london(2026, 11, 19, 17, 0)
    decline_case(db_session, report, partners.police, reason="Not ours", by=partners.police_member)
    assert report.acknowledge_due_at is None


def test_unreadable_working_hours_count_as_office_hours(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """An organisation whose stored working-hours text cannot be read (older data): are its
    deadlines counted in office hours rather than failing?"""
    partners.police.working_hours = "School days, 8am to 4:30pm"
    partners.council.working_hours = "Volunteer work days on Saturdays"
    set_target(db_session, partners.police, "fly-tipping", ack_minutes=120, resolve_days=3)
    report = make_report(created_at=SATURDAY)
    assert route_due(db_session, report, partners.police) == london(2026, 11, 23, 11, 0)  # Monday, 9am + 2h
    assert route_due(db_session, report, partners.council) == london(2026, 11, 24, 17, 0)  # 2 working days


def test_new_working_hours_recompute_the_organisations_open_cases_only(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """When a coordinator changes the working hours, are the deadlines of the organisation's
    open cases worked out again in the new hours, and a closed case left alone?"""
    open_case = make_report(created_at=SATURDAY)
    closed = make_report(created_at=SATURDAY)
    closed.status = ReportStatus.CLOSED
    before = route_due(db_session, closed, partners.police)
    assert route_due(db_session, open_case, partners.police) == london(2026, 11, 24, 17, 0)
    update_contact_details(
        db_session,
        partners.police,
        contact_email="police@example.org",
        working_hours="24 hours, 7 days a week",
        by=partners.police_member,  # the police coordinator
    )
    # Round the clock, day one is Sunday: two working days end at midnight on Monday.
    assert route_due(db_session, open_case, partners.police) == london(2026, 11, 24, 0, 0)
    assert route_due(db_session, closed, partners.police) == before
    assert route_due(db_session, open_case, partners.council) == london(2026, 11, 24, 17, 0)


def test_refreshing_an_organisations_cases_costs_the_same_queries_whatever_their_number(
    db_session: Session, partners: Partners, make_report: MakeReport, count_queries: Callable[[], Any]
) -> None:
    """Does recomputing the deadlines of 3 open cases run as many queries as for 30 (batched),
    and does a refresh that changes nothing write nothing?"""
    for _ in range(3):
        make_report(created_at=TUESDAY)
    db_session.expire_all()
    with count_queries() as few:
        assert deadlines.refresh_organisation(db_session, partners.police) == 3
    assert not [s for s in few.statements if s.lstrip().upper().startswith("UPDATE")]
    for _ in range(27):
        make_report(created_at=TUESDAY)
    partners.police.working_hours = "24 hours, 7 days a week"
    db_session.flush()
    db_session.expire_all()
    with count_queries() as many:
        assert deadlines.refresh_organisation(db_session, partners.police) == 30
    selects = [s for s in many.statements if not s.lstrip().upper().startswith("UPDATE")]
    assert len(selects) == few.count, selects


def test_an_unpublished_report_has_no_deadlines(db_session: Session, make_report: MakeReport) -> None:
    """Is refreshing a report that awaits confirmation refused (it has no deadlines yet)?"""
    report = make_report(publish=False)
    with pytest.raises(ValueError, match="not published"):
        deadlines.refresh(db_session, report)


def test_a_member_of_the_lead_or_an_administrator_may_change_the_priority(
    db_session: Session, partners: Partners, make_report: MakeReport, make_user: Callable[..., User]
) -> None:
    """(Permissions) Is changing the priority open to the lead's members and administrators
    only, not to routed or supporting organisations or before anyone leads?"""
    from app import permissions

    report = make_report()
    case = load_case(db_session, report.id)
    assert case is not None
    assert not permissions.can_set_priority(partners.council_member, case)
    assert permissions.can_set_priority(partners.admin, case)
    claim_case(db_session, report, partners.council, role="lead", by=partners.council_member)
    claim_case(db_session, report, partners.police, role="supporting", by=partners.police_member)
    case = load_case(db_session, report.id)
    assert case is not None
    assert permissions.can_set_priority(partners.council_member, case)
    assert not permissions.can_set_priority(partners.police_member, case)
    assert not permissions.can_set_priority(make_user(), case)
