"""A case's priority (risk tier): standard or high risk, set with a reason.

High risk shortens the response targets (``working_time.targets_for``: acknowledged within 1
working day at most, resolved in half the standard time), so a change recomputes the case's
deadlines at once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from app import permissions
from app.accounts.models import User
from app.audit.services import record
from app.coordination import deadlines
from app.coordination.errors import CoordinationError
from app.coordination.history import log
from app.coordination.models import Case, EventKind
from app.coordination.routing import checked_reason
from app.db import utcnow
from app.partners.services import NotAllowed
from app.reports.models import Priority


def set_priority(
    session: Session,
    case: Case,
    priority: Priority | str,
    *,
    reason: str,
    by: User,
    ip: str = "",
    now: dt.datetime | None = None,
) -> Priority:
    """Change the priority of ``case`` to ``priority``, saying why, and recompute its deadlines.
    Returns the new priority.

    Raises NotAllowed unless ``by`` is a member of the lead organisation or an administrator
    (``permissions.can_set_priority``); CoordinationError (fields ``priority`` and ``reason``)
    for an unknown priority, the priority it already has, a report that is no longer open, or
    a missing or too long reason.
    """
    if not permissions.can_set_priority(by, case):
        raise NotAllowed("You cannot do that")
    report = case.report
    errors: dict[str, str] = {}
    try:
        chosen = Priority(priority)
    except ValueError:
        chosen = None
        errors["priority"] = "Choose standard or high risk"
    if chosen is not None and not report.status.is_open:
        errors["priority"] = f"This report is {report.status.label.lower()}: its priority cannot change"
    elif chosen is not None and chosen == report.priority:
        errors["priority"] = f"This case is already {chosen.label.lower()}: choose the other priority"
    try:
        text = checked_reason(reason, "reason", "Say why the priority is changing")
    except CoordinationError as exc:
        errors.update(exc.errors)
    if errors or chosen is None:
        raise CoordinationError(errors)
    before = report.priority
    report.priority = chosen
    lead = case.lead
    acting_for = lead.organisation if lead is not None and permissions.membership_in(by, lead.organisation) else None
    log(
        session,
        report,
        EventKind.PRIORITY_CHANGED,
        by=by,
        organisation=acting_for,
        old=before.label,
        new=chosen.label,
        detail=text,
        at=now or utcnow(),
    )
    session.flush()
    deadlines.refresh(session, report)
    record(
        session,
        "case_priority_changed",
        actor=by,
        target=f"report:{report.id}",
        ip=ip,
        detail=f"{before.value} → {chosen.value}: {text}",
    )
    return chosen
