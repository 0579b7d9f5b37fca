"""A case's priority: set by the lead or an administrator with a reason, logged, and used by the
inbox's priority filter and sort; the case page's response times panel."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.coordination.claims import claim_case
from app.coordination.errors import CoordinationError
from app.coordination.models import CaseEvent, EventKind
from app.coordination.priority import set_priority
from app.coordination.queries import load_case
from app.partners.services import NotAllowed
from app.reports.models import Priority, Report, ReportStatus
from tests.coordination.conftest import Partners

MakeReport = Callable[..., Report]
Login = Callable[[User], None]


def test_the_lead_marks_a_case_high_risk_with_a_reason_and_it_is_logged(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Can a member of the lead mark a case high risk from the case page, with the change and
    its reason in the history and the audit log, and the page then say "High risk"?"""
    report = make_report()
    claim_case(db_session, report, partners.council, role="lead", by=partners.council_member)
    login(partners.council_member)
    page = client.get(f"/cases/{report.id}")
    assert "Change the priority" in page.text and "Response times" in page.text
    done = client.post(f"/cases/{report.id}/priority", data={"priority": "high", "reason": "Needles near a school"})
    assert done.status_code == 302
    after = client.get(done.location).text
    assert "is now high risk" in after and "High risk" in after and "Needles near a school" in after
    assert report.priority == Priority.HIGH
    event = db_session.scalars(sa.select(CaseEvent).where(CaseEvent.kind == EventKind.PRIORITY_CHANGED)).one()
    assert (event.old_value, event.new_value, event.detail) == ("Standard", "High risk", "Needles near a school")
    assert event.actor_id == partners.council_member.id and event.organisation_id == partners.council.id
    audit = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "case_priority_changed")).one()
    assert audit.target == f"report:{report.id}"


def test_a_priority_change_needs_a_reason_and_a_different_priority_keeping_what_was_typed(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Is a change with no reason, or to the priority it already has, refused with 400 and
    messages linked from the error summary, keeping the choice and the text?"""
    report = make_report()
    claim_case(db_session, report, partners.council, role="lead", by=partners.council_member)
    login(partners.council_member)
    missing = client.post(f"/cases/{report.id}/priority", data={"priority": "high", "reason": "  "})
    assert missing.status_code == 400
    assert 'href="#priority-reason"' in missing.text and "Say why the priority is changing" in missing.text
    assert 'value="high" checked' in missing.text
    same = client.post(f"/cases/{report.id}/priority", data={"priority": "standard", "reason": "Keep it"})
    assert same.status_code == 400 and "already standard" in same.text and ">Keep it</textarea>" in same.text
    bad = client.post(f"/cases/{report.id}/priority", data={"priority": "urgent", "reason": "x"})
    assert bad.status_code == 400 and 'href="#priority-priority"' in bad.text
    assert report.priority == Priority.STANDARD


def test_only_the_lead_or_an_administrator_may_change_the_priority(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Is a supporting partner refused (403, and no form shown), and an administrator allowed
    even before anyone leads?"""
    report = make_report()
    claim_case(db_session, report, partners.police, role="supporting", by=partners.police_member)
    login(partners.police_member)
    assert "Change the priority" not in client.get(f"/cases/{report.id}").text
    refused = client.post(f"/cases/{report.id}/priority", data={"priority": "high", "reason": "Mine now"})
    assert refused.status_code == 403
    client.post("/sign-out")
    login(partners.admin)
    assert client.post(f"/cases/{report.id}/priority", data={"priority": "high", "reason": "Triage"}).status_code == 302
    assert report.priority == Priority.HIGH
    case = load_case(db_session, report.id)
    assert case is not None
    with pytest.raises(NotAllowed):
        set_priority(db_session, case, "standard", reason="No", by=partners.police_member)


def test_a_closed_case_keeps_its_priority(db_session: Session, partners: Partners, make_report: MakeReport) -> None:
    """Is the priority of a closed report left as it is?"""
    report = make_report()
    report.status = ReportStatus.CLOSED
    case = load_case(db_session, report.id)
    assert case is not None
    with pytest.raises(CoordinationError) as caught:
        set_priority(db_session, case, "high", reason="Too late", by=partners.admin)
    assert "closed" in caught.value.errors["priority"]


def test_the_inbox_filters_by_priority_and_sorts_high_risk_first_then_oldest(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Does the priority filter keep only high-risk (or standard) reports, and the priority sort
    put high risk first, oldest first within each, with a "High risk" tag?"""
    now = dt.datetime.now(dt.UTC)
    old_standard = make_report(created_at=now - dt.timedelta(days=3))
    new_high = make_report(created_at=now - dt.timedelta(days=1), priority=Priority.HIGH)
    old_high = make_report(created_at=now - dt.timedelta(days=2), priority=Priority.HIGH)
    login(partners.council_member)
    org = partners.council.id
    high = client.get(f"/inbox?org={org}&priority=high")
    assert [r.reference in high.text for r in (old_standard, new_high, old_high)] == [False, True, True]
    assert "High risk</strong>" in high.text
    standard = client.get(f"/inbox?org={org}&priority=standard").text
    assert [r.reference in standard for r in (old_standard, new_high, old_high)] == [True, False, False]
    by_priority = client.get(f"/inbox?org={org}&sort=priority").text
    order = [by_priority.index(r.reference) for r in (old_high, new_high, old_standard)]
    assert order == sorted(order)
    bad = client.get(f"/inbox?org={org}&priority=urgent")
    assert bad.status_code == 400 and 'href="#filter-priority"' in bad.text
