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
    HANDOFF_OFFERED = "handoff_offered"
    HANDOFF_ACCEPTED = "handoff_accepted"
    HANDOFF_REFUSED = "handoff_refused"
    HANDOFF_WITHDRAWN = "handoff_withdrawn"
    ACTION_ADDED = "action_added"
    ACTION_CHANGED = "action_changed"
    PUBLIC_UPDATE = "public_update"
    NOTE_ADDED = "note_added"
    REPLY_ADDED = "reply_added"
    MERGED = "merged"
    MERGE_UNDONE = "merge_undone"
    PRIORITY_CHANGED = "priority_changed"
    ESCALATED = "escalated"
    TRIGGER_FLAGGED = "trigger_flagged"

    @property
    def label(self) -> str:
        return {
            "routed": "Routed",
            "declined": "Declined",
            "claimed": "Claimed",
            "status_changed": "Status changed",
            "to_triage": "Back to triage",
            "handoff_offered": "Lead hand-off offered",
            "handoff_accepted": "Lead hand-off accepted",
            "handoff_refused": "Lead hand-off refused",
            "handoff_withdrawn": "Lead hand-off withdrawn",
            "action_added": "Action added",
            "action_changed": "Action changed",
            "public_update": "Public update",
            "note_added": "Internal note",
            "reply_added": "Reply from the resident",
            "merged": "Merged as a duplicate",
            "merge_undone": "Merge undone",
            "priority_changed": "Priority changed",
            "escalated": "Escalated to triage",
            "trigger_flagged": "Community Trigger check",
        }[self.value]


class CaseRoute(Base):
    """A report sent to an organisation: automatically by coverage, or from triage with a reason.

    A route is live until the organisation declines it (``declined_at``); routing it again
    from triage makes it live again.
    """

    __tablename__ = "case_routes"
    __table_args__ = (
        sa.UniqueConstraint("report_id", "organisation_id", name="one_route_per_org"),
        # The inbox's "due soonest" walks an organisation's routes in due order and stops after
        # a page (docs/benchmarks.md); it also serves every lookup by organisation.
        sa.Index("ix_case_routes_organisation_id_due_at", "organisation_id", "due_at", "report_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed by the unique constraint, which leads with report_id.
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("reports.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    routed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(
        sa.String(REASON_MAX), default="", comment="Empty when routed automatically by coverage"
    )
    routed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), comment="Empty when routed automatically"
    )
    declined_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decline_reason: Mapped[str] = mapped_column(sa.String(REASON_MAX), default="")
    acknowledge_due_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, comment="This organisation's acknowledgement target for the report"
    )
    due_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime,
        comment="What this organisation has due next on an open report: its acknowledgement target "
        "while nobody leads it, then the lead's resolution target; empty when declined or not open",
    )

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


# --- Hand-offs, actions, messages, merges, targets ---------------------------------------------

TITLE_MAX = 120
BODY_MAX = 5000
NAME_MAX = 100


class HandoffState(enum.StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class CaseHandoff(Base):
    """The lead offering the lead role to another organisation. The lead changes only when
    that organisation accepts; a report has at most one open offer (a partial unique index)."""

    __tablename__ = "case_handoffs"
    __table_args__ = (
        sa.Index(
            "uq_case_handoffs_one_open",
            "report_id",
            unique=True,
            sqlite_where=sa.text("state = 'offered'"),
            postgresql_where=sa.text("state = 'offered'"),
        ),
        sa.Index("ix_case_handoffs_report_id", "report_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("reports.id", ondelete="CASCADE"))
    from_organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    to_organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(REASON_MAX))
    state: Mapped[HandoffState] = mapped_column(value_enum(HandoffState, "handoff_state"))
    offered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    offered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answer: Mapped[str] = mapped_column(sa.String(REASON_MAX), default="")

    from_organisation: Mapped[Organisation] = relationship(foreign_keys=[from_organisation_id], lazy="joined")
    to_organisation: Mapped[Organisation] = relationship(foreign_keys=[to_organisation_id], lazy="joined")


class ActionStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def is_open(self) -> bool:
        return self in {ActionStatus.PLANNED, ActionStatus.IN_PROGRESS}


class CaseAction(Base):
    """A piece of work on a case: owned by an organisation on it, assigned to one of its
    members, due on a date (Europe/London)."""

    __tablename__ = "case_actions"
    __table_args__ = (
        sa.Index("ix_case_actions_report_id", "report_id"),
        sa.Index("ix_case_actions_assignee_id_status", "assignee_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("reports.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.String(TITLE_MAX))
    details: Mapped[str] = mapped_column(sa.Text, default="")
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    due_on: Mapped[dt.date]
    status: Mapped[ActionStatus] = mapped_column(
        value_enum(ActionStatus, "action_status"), default=ActionStatus.PLANNED
    )
    completion_note: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], lazy="joined")


class MessageKind(enum.StrEnum):
    PUBLIC_UPDATE = "public_update"  # from a partner, seen by everyone; emailed to reporter and followers
    INTERNAL_NOTE = "internal_note"  # from a partner, seen by partners only (see NoteAudience)
    REPLY = "reply"  # from the reporter, public, answering the updates


class NoteAudience(enum.StrEnum):
    PUBLIC = "public"  # public updates and replies
    CASE = "case"  # every organisation on the case
    ORGANISATION = "organisation"  # the author's organisation alone

    @property
    def label(self) -> str:
        return {
            "public": "Everyone",
            "case": "Every organisation on this case",
            "organisation": "My organisation only",
        }[self.value]


class CaseMessage(Base):
    """A public update, an internal note or a reply from the reporter. The body is stored as
    plain text (it is escaped when shown); ``status_from``/``status_to`` are set when the
    update announced a status change."""

    __tablename__ = "case_messages"
    __table_args__ = (sa.Index("ix_case_messages_report_id_created_at", "report_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("reports.id", ondelete="CASCADE"))
    kind: Mapped[MessageKind] = mapped_column(value_enum(MessageKind, "message_kind"))
    audience: Mapped[NoteAudience] = mapped_column(value_enum(NoteAudience, "note_audience"))
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="SET NULL"), comment="The partner that wrote it; empty for replies"
    )
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(
        sa.String(NAME_MAX), default="", comment="As shown, kept if the account goes"
    )
    body: Mapped[str] = mapped_column(sa.Text)
    status_from: Mapped[str | None] = mapped_column(sa.String(20))
    status_to: Mapped[str | None] = mapped_column(sa.String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation | None] = relationship(lazy="joined")


class CaseMention(Base):
    """A member @mentioned in an internal note or update, who was told by email."""

    __tablename__ = "case_mentions"

    message_id: Mapped[int] = mapped_column(sa.ForeignKey("case_messages.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)


class CaseMerge(Base):
    """A report merged into another as its duplicate; ``undone_at`` is set if it was undone."""

    __tablename__ = "case_merges"
    __table_args__ = (sa.Index("ix_case_merges_report_id", "report_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("reports.id", ondelete="CASCADE"), comment="The duplicate")
    into_id: Mapped[int] = mapped_column(sa.ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    previous_status: Mapped[str] = mapped_column(sa.String(20))
    merged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    merged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    undone_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    undone_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ResponseTarget(Base):
    """An organisation's standard targets for one category, in its working time: acknowledge
    within so many working minutes and/or days, resolve within so many. Where an organisation
    has set none, ``app.coordination.targets.DEFAULT`` applies."""

    __tablename__ = "response_targets"
    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "category_id", name="one_target_per_category"),
        sa.CheckConstraint("acknowledge_minutes IS NOT NULL OR acknowledge_days IS NOT NULL", name="acknowledge_given"),
        sa.CheckConstraint("resolve_minutes IS NOT NULL OR resolve_days IS NOT NULL", name="resolve_given"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id", ondelete="CASCADE"))
    acknowledge_minutes: Mapped[int | None]
    acknowledge_days: Mapped[int | None]
    resolve_minutes: Mapped[int | None]
    resolve_days: Mapped[int | None]
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class JobRun(Base):
    """When a scheduled job (escalation, the coordinators' digest) last ran, so the worker runs
    each once per period however many workers there are."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    last_run_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


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
