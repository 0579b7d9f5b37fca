"""Shared cases: which organisations a report is routed to, who claims it, and its history.

A report becomes a case when it is published: ``CaseRoute`` rows say which organisations it
was sent to (and whether they declined), ``CaseClaim`` rows which of them took it on, as lead
or supporting partner, and ``CaseEvent`` rows record every change, append-only.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db import Base, UTCDateTime, utcnow, value_enum
from app.partners.models import Organisation
from app.reports.models import Report

# Must match the form limits in app/coordination/views.py.
REASON_MAX = 500


class ClaimRole(enum.StrEnum):
    LEAD = "lead"
    SUPPORTING = "supporting"

    @property
    def label(self) -> str:
        return {"lead": "Lead partner", "supporting": "Supporting partner"}[self.value]


class EventKind(enum.StrEnum):
    ROUTED = "routed"
    DECLINED = "declined"
    CLAIMED = "claimed"
    STATUS_CHANGED = "status_changed"
    TO_TRIAGE = "to_triage"

    @property
    def label(self) -> str:
        return {
            "routed": "Routed",
            "declined": "Declined",
            "claimed": "Claimed",
            "status_changed": "Status changed",
            "to_triage": "Back to triage",
        }[self.value]


class CaseRoute(Base):
    """A report sent to an organisation: automatically by coverage, or from triage with a reason.

    A route is live until the organisation declines it (``declined_at``); routing it again
    from triage makes it live again.
    """

    __tablename__ = "case_routes"
    __table_args__ = (sa.UniqueConstraint("report_id", "organisation_id", name="one_route_per_org"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed by the unique constraint, which leads with report_id.
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("reports.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    routed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(
        sa.String(REASON_MAX), default="", comment="Empty when routed automatically by coverage"
    )
    routed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), comment="Empty when routed automatically"
    )
    declined_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decline_reason: Mapped[str] = mapped_column(sa.String(REASON_MAX), default="")

    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)

    @property
    def is_live(self) -> bool:
        return self.declined_at is None


class CaseClaim(Base):
    """An organisation on a case as lead or supporting partner. The database allows at most
    one lead per report (``uq_case_claims_one_lead``, a partial unique index), so two
    organisations claiming the lead at the same instant cannot both succeed."""

    __tablename__ = "case_claims"
    __table_args__ = (
        sa.UniqueConstraint("report_id", "organisation_id", name="one_claim_per_org"),
        sa.Index(
            "uq_case_claims_one_lead",
            "report_id",
            unique=True,
            sqlite_where=sa.text("role = 'lead'"),
            postgresql_where=sa.text("role = 'lead'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed by the unique constraint, which leads with report_id.
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("reports.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    role: Mapped[ClaimRole] = mapped_column(value_enum(ClaimRole, "claim_role"))
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)


class CaseEvent(Base):
    """One change to a case, with who made it, for which organisation, and the old and new
    values. Nothing updates or deletes these rows (the ORM refuses; see below)."""

    __tablename__ = "case_events"
    __table_args__ = (sa.Index("ix_case_events_report_id_at", "report_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("reports.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), comment="Empty for automatic changes"
    )
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="SET NULL"), comment="The organisation acted for, or acted on"
    )
    kind: Mapped[EventKind] = mapped_column(value_enum(EventKind, "case_event_kind"))
    old_value: Mapped[str] = mapped_column(sa.String(100), default="")
    new_value: Mapped[str] = mapped_column(sa.String(100), default="")
    detail: Mapped[str] = mapped_column(sa.String(REASON_MAX), default="")

    actor: Mapped[User | None] = relationship(lazy="joined")
    organisation: Mapped[Organisation | None] = relationship(lazy="joined")


class CaseHistoryIsAppendOnly(RuntimeError):
    """Something tried to change or delete a case event through the ORM."""


@sa.event.listens_for(CaseEvent, "before_update")
@sa.event.listens_for(CaseEvent, "before_delete")
def _refuse_changes(mapper: object, connection: object, target: CaseEvent) -> None:
    raise CaseHistoryIsAppendOnly(f"Case event {target.id} cannot be changed or deleted")


@dataclass
class Case:
    """A published report with its routes (declined ones too) and claims, as loaded by
    ``app.coordination.queries.load_case``: what permission checks and pages ask about."""

    report: Report
    routes: list[CaseRoute]
    claims: list[CaseClaim]

    @property
    def live_routes(self) -> list[CaseRoute]:
        return [r for r in self.routes if r.is_live]

    @property
    def lead(self) -> CaseClaim | None:
        return next((c for c in self.claims if c.role == ClaimRole.LEAD), None)

    @property
    def organisations(self) -> list[Organisation]:
        """Organisations on the case: those with a live route or a claim, by name."""
        found = {r.organisation_id: r.organisation for r in self.live_routes}
        found.update({c.organisation_id: c.organisation for c in self.claims})
        return sorted(found.values(), key=lambda o: o.name)

    @property
    def organisation_ids(self) -> set[int]:
        return {o.id for o in self.organisations}

    def route_of(self, organisation: Organisation) -> CaseRoute | None:
        return next((r for r in self.routes if r.organisation_id == organisation.id), None)

    def claim_of(self, organisation: Organisation) -> CaseClaim | None:
        return next((c for c in self.claims if c.organisation_id == organisation.id), None)

    @property
    def in_triage(self) -> bool:
        """No live route and no lead: the council triage queue decides where it goes."""
        return not self.live_routes and self.lead is None
