"""Escalation: published reports still new and unacknowledged past their target go to council
triage once, with the reason, and leave it when an organisation claims the lead."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.coordination import queries
from app.coordination.claims import claim_case
from app.coordination.escalation import escalate_overdue
from app.coordination.models import CaseEvent, EventKind
from app.reports.models import Report, ReportStatus
from tests.coordination.conftest import Partners

MakeReport = Callable[..., Report]
Login = Callable[[User], None]
UTC = dt.UTC
# Published at 10am on Tuesday 17 November 2026: due by 5pm on Thursday 19th (2 working days).
TUESDAY = dt.datetime(2026, 11, 17, 10, 0, tzinfo=UTC)
DUE = dt.datetime(2026, 11, 19, 17, 0, tzinfo=UTC)


def test_only_unacknowledged_reports_past_their_target_are_escalated_once(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Is a new report past its acknowledgement target escalated (with an event and an audit
    entry) while one not yet due, one acknowledged, one closed and one unpublished are not,
    and does a second run change nothing?"""
    overdue = make_report(created_at=TUESDAY)
    not_yet = make_report(created_at=TUESDAY + dt.timedelta(days=1))
    acknowledged = make_report(created_at=TUESDAY)
    claim_case(db_session, acknowledged, partners.council, role="lead", by=partners.council_member)
    closed = make_report(created_at=TUESDAY)
    closed.status = ReportStatus.CLOSED
    unpublished = make_report(publish=False)
    now = DUE + dt.timedelta(minutes=1)
    assert overdue.acknowledge_due_at == DUE and not_yet.acknowledge_due_at is not None
    assert not_yet.acknowledge_due_at > now
    assert escalate_overdue(db_session, now=now) == [overdue]
    assert overdue.escalated_at == now
    for report in (not_yet, acknowledged, closed, unpublished):
        assert report.escalated_at is None
    event = db_session.scalars(sa.select(CaseEvent).where(CaseEvent.kind == EventKind.ESCALATED)).one()
    assert event.report_id == overdue.id and event.actor_id is None
    assert event.detail == "Not acknowledged by 5pm on Thursday 19 November, its target"
    assert db_session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "case_escalated")) == 1
    assert escalate_overdue(db_session, now=now + dt.timedelta(hours=1)) == []
    assert overdue.escalated_at == now
    assert db_session.scalar(sa.select(sa.func.count()).where(CaseEvent.kind == EventKind.ESCALATED)) == 1


def test_exactly_at_the_target_is_not_yet_escalated(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """At the very instant of the target, is the report left alone (only past it escalates);
    and is a report nobody has (in triage already, with no target) never escalated?"""
    report = make_report(created_at=TUESDAY)
    make_report(slug="graffiti", created_at=TUESDAY)  # nobody covers graffiti
    assert escalate_overdue(db_session, now=DUE) == []
    assert escalate_overdue(db_session, now=DUE + dt.timedelta(seconds=1)) == [report]


def test_an_escalated_report_is_in_triage_with_why_until_someone_leads_it(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Does the triage queue list an escalated report, though still routed, tagged "Escalated"
    with the reason; does the case page say so; and does claiming the lead take it out?"""
    report = make_report(created_at=TUESDAY)
    waiting = make_report(created_at=TUESDAY + dt.timedelta(days=30))  # routed, not overdue
    escalate_overdue(db_session, now=DUE + dt.timedelta(hours=1))
    in_queue = queries.triage_queue(db_session, page=1, per_page=100)[0]
    assert report in in_queue and waiting not in in_queue
    login(partners.admin)
    page = client.get("/triage").text
    assert report.reference in page and "Escalated</strong>" in page
    assert "Not acknowledged by 5pm on Thursday 19 November, its target" in page
    case_page = client.get(f"/cases/{report.id}").text
    assert "Escalated to council triage" in case_page and "Route this report" in case_page
    claim_case(db_session, report, partners.police, role="lead", by=partners.police_member)
    assert report not in queries.triage_queue(db_session, page=1, per_page=100)[0]
    assert "Escalated to council triage" not in client.get(f"/cases/{report.id}").text


def test_the_triage_queue_costs_the_same_queries_whatever_its_length(
    client: FlaskClient,
    db_session: Session,
    partners: Partners,
    make_report: MakeReport,
    login: Login,
    count_queries: Callable[[], object],
) -> None:
    """With escalated reports and their reasons, does triage run as many queries for 2 as for 12?"""
    login(partners.admin)
    for _ in range(2):
        make_report(created_at=TUESDAY)
    escalate_overdue(db_session, now=DUE + dt.timedelta(hours=1))
    client.get("/triage")
    with count_queries() as few:  # type: ignore[attr-defined]
        assert client.get("/triage").status_code == 200
    for _ in range(10):
        make_report(created_at=TUESDAY)
    escalate_overdue(db_session, now=DUE + dt.timedelta(hours=1))
    with count_queries() as many:  # type: ignore[attr-defined]
        page = client.get("/triage")
    assert page.text.count("Escalated</strong>") == 12
    assert many.count == few.count, many.statements
