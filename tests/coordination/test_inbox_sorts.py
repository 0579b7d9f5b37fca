"""The inbox's sorts: walked through indexes one status, priority or due order at a time
(``queries.inbox_ordered``), they must page through exactly the order their definitions give,
in a small inbox and a big one."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.coordination import deadlines, queries
from app.coordination.claims import claim_case
from app.coordination.lifecycle import Actor, Closure
from app.coordination.priority import set_priority
from app.coordination.queries import InboxFilter, load_case
from app.coordination.status import change_status
from app.db import utcnow
from app.reports.models import CloseReason, Priority, Report, ReportStatus
from tests.coordination.casework import MakeReport
from tests.coordination.conftest import Partners

PER_PAGE = 3


def _case_mix(db_session: Session, partners: Partners, make_report: MakeReport) -> list[Report]:
    """Twelve reports routed to the council and the police, an hour apart: new ones, some led by
    the council and some by the police, in progress, resolved and closed, two high risk."""
    now = utcnow()
    reports = [make_report(created_at=now - dt.timedelta(hours=3 * (12 - i))) for i in range(12)]
    lead = {1: partners.council, 2: partners.police, 4: partners.council, 5: partners.council}
    lead |= {7: partners.police, 8: partners.council, 10: partners.council}
    members = {partners.council.id: partners.council_member, partners.police.id: partners.police_member}
    for i, organisation in lead.items():
        claim_case(db_session, reports[i], organisation, role="lead", by=members[organisation.id])
    for i in (4, 7):
        case = load_case(db_session, reports[i].id)
        assert case is not None
        who = lead[i]
        change_status(
            db_session,
            case,
            ReportStatus.IN_PROGRESS,
            by=members[who.id],
            organisation=who,
            actor=Actor.LEAD_PARTNER,
            note="Crew booked",
        )
    for i, target in ((5, ReportStatus.RESOLVED), (8, ReportStatus.CLOSED)):
        case = load_case(db_session, reports[i].id)
        assert case is not None
        closure = Closure(CloseReason.NO_FURTHER_ACTION) if target == ReportStatus.CLOSED else None
        change_status(
            db_session,
            case,
            target,
            by=partners.council_member,
            organisation=partners.council,
            actor=Actor.LEAD_PARTNER,
            note="Done",
            closure=closure,
        )
    for i in (3, 10):
        case = load_case(db_session, reports[i].id)
        assert case is not None
        set_priority(
            db_session,
            case,
            Priority.HIGH,
            by=partners.admin,
            reason="Near a school",
        )
    return reports


def _council_due(db_session: Session, partners: Partners, report: Report) -> dt.datetime | None:
    """What the council has due on ``report``, by definition: nothing once it is not open; its
    own acknowledgement while nobody leads; the lead's resolution after."""
    case = load_case(db_session, report.id)
    assert case is not None
    route = case.route_of(partners.council)
    if not report.status.is_open or route is None or not route.is_live:
        return None
    return report.resolve_due_at if case.lead is not None else route.acknowledge_due_at


def _expected(db_session: Session, partners: Partners, reports: list[Report], sort: str, everything: bool) -> list[str]:
    shown = [r for r in reports if everything or r.status.is_open]
    statuses = list(ReportStatus)

    def key(report: Report) -> tuple[Any, ...]:
        assert report.published_at is not None
        if sort == "oldest":
            return (report.published_at, report.id)
        if sort == "newest":
            return (-report.published_at.timestamp(), -report.id)
        if sort == "status":
            return (statuses.index(report.status), report.published_at, report.id)
        if sort == "priority":
            return (report.priority != Priority.HIGH, report.published_at, report.id)
        due = _council_due(db_session, partners, report)
        return (0, due, report.id) if due is not None else (1, report.published_at, report.id)

    return [r.reference for r in sorted(shown, key=key)]


@pytest.mark.parametrize("big", [False, True], ids=["small inbox", "big inbox"])
@pytest.mark.parametrize("everything", [False, True], ids=["open cases", "any status"])
@pytest.mark.parametrize("sort", ["oldest", "newest", "status", "priority", "due"])
def test_each_sort_pages_through_the_inbox_in_the_order_it_defines(
    db_session: Session,
    partners: Partners,
    make_report: MakeReport,
    monkeypatch: pytest.MonkeyPatch,
    sort: str,
    everything: bool,
    big: bool,
) -> None:
    """Paged three at a time, do the oldest and newest (publication), status (lifecycle order),
    priority (high risk first) and due (the council's own deadline, soonest first; nothing due
    last) sorts list every report
    of the inbox once, in the order their definitions give, whether the inbox is small (joined
    from the organisation's rows) or big (walked through the indexes)?"""
    reports = _case_mix(db_session, partners, make_report)
    if big:
        monkeypatch.setattr(queries, "INBOX_COUNT_CAP", 3)
    filters = InboxFilter(sort=sort, open_only=not everything)
    listed: list[str] = []
    for page in range(1, 6):
        rows, _ = queries.inbox(db_session, partners.council, filters, page=page, per_page=PER_PAGE)
        listed += [row.report.reference for row in rows]
    assert listed == _expected(db_session, partners, reports, sort, everything)


def test_every_route_keeps_what_its_organisation_has_due(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """After claims, status changes, closing and priority changes through the services, does each
    route's stored ``due_at`` (which the due sort and the overdue filter read) equal what its
    organisation has due by definition?"""
    reports = _case_mix(db_session, partners, make_report)
    for report in reports:
        case = load_case(db_session, report.id)
        assert case is not None
        for route in case.routes:
            led = case.lead is not None
            assert route.due_at == deadlines.route_due_at(report, route, led=led)
            expected = None
            if report.status.is_open and route.is_live:
                expected = report.resolve_due_at if led else route.acknowledge_due_at
            assert route.due_at == expected and (expected is not None) == report.status.is_open
