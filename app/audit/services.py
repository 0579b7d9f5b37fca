"""Writing and reading the audit log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.audit.models import AuditEvent


def record(
    session: Session,
    action: str,
    *,
    actor: User | None = None,
    actor_email: str = "",
    target: str = "",
    ip: str = "",
    detail: str = "",
) -> AuditEvent:
    """Append an event (flushed with the change it records, so both commit or neither)."""
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor else None,
        actor_email=(actor.email if actor else actor_email)[:254],
        target=target[:120],
        ip=(ip or "")[:45],
        detail=detail[:500],
    )
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class AuditQuery:
    action: str | None = None
    actor_email: str | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None


def search(session: Session, query: AuditQuery, *, page: int, per_page: int) -> tuple[list[AuditEvent], int]:
    """Events matching ``query``, newest first, with the total count."""
    clauses = []
    if query.action:
        clauses.append(AuditEvent.action == query.action)
    if query.actor_email:
        clauses.append(AuditEvent.actor_email.ilike(f"%{query.actor_email}%"))
    if query.start:
        clauses.append(AuditEvent.at >= query.start)
    if query.end:
        clauses.append(AuditEvent.at < query.end)
    total = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(*clauses)) or 0
    rows = session.scalars(
        sa.select(AuditEvent)
        .where(*clauses)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(rows), total


def actions(session: Session) -> list[str]:
    return list(session.scalars(sa.select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
