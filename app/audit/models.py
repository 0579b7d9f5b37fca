"""Audit events. Nothing in the application updates or deletes them."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_at", "at"), sa.Index("ix_audit_events_action", "action"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(sa.String(50), comment="e.g. sign_in, sign_in_failed, role_changed")
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    actor_email: Mapped[str] = mapped_column(sa.String(254), default="", comment="Kept if the account goes")
    target: Mapped[str] = mapped_column(sa.String(120), default="", comment="e.g. user:12, organisation:3")
    ip: Mapped[str] = mapped_column(sa.String(45), default="")
    detail: Mapped[str] = mapped_column(sa.String(500), default="")


class AuditLogIsAppendOnly(RuntimeError):
    """Something tried to change or delete an audit event through the ORM."""


@sa.event.listens_for(AuditEvent, "before_update")
@sa.event.listens_for(AuditEvent, "before_delete")
def _refuse_changes(mapper: object, connection: object, target: AuditEvent) -> None:
    raise AuditLogIsAppendOnly(f"Audit event {target.id} cannot be changed or deleted")
