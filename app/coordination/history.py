"""Writing the case history: every change is one ``CaseEvent`` plus one audit event."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from app.accounts.models import User
from app.coordination.models import CaseEvent, EventKind
from app.db import utcnow
from app.partners.models import Organisation
from app.reports.models import Report


def log(
    session: Session,
    report: Report,
    kind: EventKind,
    *,
    by: User | None,
    organisation: Organisation | None = None,
    old: str = "",
    new: str = "",
    detail: str = "",
    at: dt.datetime | None = None,
) -> CaseEvent:
    """Append one event to ``report``'s history (``by`` None: an automatic change)."""
    event = CaseEvent(
        report_id=report.id,
        at=at or utcnow(),
        actor_id=by.id if by else None,
        organisation_id=organisation.id if organisation else None,
        kind=kind,
        old_value=old[:100],
        new_value=new[:100],
        detail=detail[:500],
    )
    session.add(event)
    return event
