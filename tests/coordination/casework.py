"""Helpers shared by the tests of actions, "My actions" and hand-offs: a case the council leads
and the police support, more members, and the add-action form."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.coordination import queries
from app.coordination.actions import ActionInput, add_action
from app.coordination.claims import claim_case
from app.coordination.models import CaseAction, CaseEvent
from app.mail.models import OutboxEmail
from app.partners.models import Membership, Organisation, OrgRole
from app.reports.models import Report
from tests.coordination.conftest import Partners

MakeReport = Callable[..., Report]


def link(action: CaseAction) -> str:
    """The action link services put in emails (the views build the real one)."""
    return f"http://tellus.test/cases/{action.report_id}/actions/{action.id}"


def led_case(session: Session, partners: Partners, make_report: MakeReport, **fields: Any) -> Report:
    """A fly-tipping report in St Michael's: routed to the council and the police; the council
    leads it and the police support it."""
    report = make_report(slug="fly-tipping", **fields)
    claim_case(session, report, partners.council, role="lead", by=partners.council_member)
    claim_case(session, report, partners.police, role="supporting", by=partners.police_member)
    return report


def join(session: Session, user: User, organisation: Organisation, role: str = "member") -> User:
    """Make ``user`` a member (or coordinator) of ``organisation`` too."""
    session.add(Membership(user_id=user.id, organisation_id=organisation.id, role=OrgRole(role)))
    session.flush()
    session.refresh(user)
    session.refresh(organisation)
    return user


def due_parts(day: dt.date) -> dict[str, str]:
    return {"due_day": str(day.day), "due_month": str(day.month), "due_year": str(day.year)}


def action_input(assignee: User, due: dt.date, /, **overrides: str) -> ActionInput:
    """A valid new action assigned to ``assignee`` and due on ``due``; ``overrides`` change fields."""
    values = {"title": "Remove the sofa", "details": "From the verge by the bins", "status": "planned"}
    values.update({"assignee": str(assignee.id), **due_parts(due)})
    values.update(overrides)
    return ActionInput(**values)


def form_of(data: ActionInput, organisation: Organisation | None = None) -> dict[str, str]:
    """``data`` as the add or change form posts it."""
    fields = {
        "title": data.title,
        "details": data.details,
        "assignee": data.assignee,
        "due-day": data.due_day,
        "due-month": data.due_month,
        "due-year": data.due_year,
        "status": data.status,
        "note": data.note,
    }
    if organisation is not None:
        fields["organisation"] = str(organisation.id)
    return fields


def new_action(
    session: Session,
    report: Report,
    organisation: Organisation,
    by: User,
    *,
    assignee: User | None = None,
    due: dt.date,
    now: dt.datetime | None = None,
    **overrides: str,
) -> CaseAction:
    """Add an action through the service (``now`` on the day it is added, if given)."""
    data = action_input(assignee or by, due, **overrides)
    return add_action(session, report, organisation, data, by=by, action_link=link, now=now)


def events(session: Session, report: Report) -> list[CaseEvent]:
    return queries.history(session, report.id)


def audit_actions(session: Session) -> list[str]:
    return list(session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def emails(session: Session, kind: str) -> list[OutboxEmail]:
    return list(session.scalars(sa.select(OutboxEmail).where(OutboxEmail.kind == kind).order_by(OutboxEmail.id)))
