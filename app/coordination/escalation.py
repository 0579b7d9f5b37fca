"""Escalation: reports still unacknowledged past their target go to council triage.

``escalate_overdue`` (a scheduled job, every 15 minutes: ``app.coordination.jobs``) finds
published reports that are still new, not acknowledged, past their ``acknowledge_due_at`` and
not escalated yet, and sets ``escalated_at``, with an ``ESCALATED`` event and an audit event
for each. The triage queue then lists them beside the reports nobody has, even though they
are still routed, until an organisation claims the lead. Running it again changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, raiseload

from app.audit.services import record
from app.coordination.history import log
from app.coordination.models import CaseEvent, EventKind
from app.coordination.timing import when
from app.db import utcnow
from app.reports.models import Report, ReportStatus


def reason(due_at: dt.datetime, *, now: dt.datetime | None = None) -> str:
    """ "Not acknowledged by 5pm on Monday 30 November, its target"."""
    return f"Not acknowledged by {when(due_at, now=now)}, its target"


def overdue_clauses(now: dt.datetime) -> list[sa.ColumnElement[bool]]:
    """Published reports still new and unacknowledged past their target, not yet escalated."""
    return [
        Report.published_at.is_not(None),
        Report.status == ReportStatus.NEW,
        Report.acknowledged_at.is_(None),
        Report.acknowledge_due_at.is_not(None),
        Report.acknowledge_due_at < now,
        Report.escalated_at.is_(None),
    ]


def escalate_overdue(session: Session, *, now: dt.datetime | None = None, limit: int = 1000) -> list[Report]:
    """Escalate up to ``limit`` overdue, unacknowledged reports (oldest deadline first) to
    council triage; returns them. Flushes, never commits; idempotent."""
    moment = now or utcnow()
    reports = list(
        session.scalars(
            sa.select(Report)
            .options(raiseload(Report.photos))
            .where(*overdue_clauses(moment))
            .order_by(Report.acknowledge_due_at, Report.id)
            .limit(limit)
        )
    )
    for report in reports:
        assert report.acknowledge_due_at is not None
        report.escalated_at = moment
        why = reason(report.acknowledge_due_at, now=moment)
        log(session, report, EventKind.ESCALATED, by=None, new="Council triage", detail=why, at=moment)
        record(session, "case_escalated", target=f"report:{report.id}", detail=why)
    session.flush()
    return reports


@dataclass(frozen=True)
class TriageNote:
    """Why a report is in the triage queue besides having no organisation: escalated, and/or
    a possible Community Trigger case, with what the event said."""

    escalated: str | None = None
    trigger: str | None = None


def triage_notes(session: Session, report_ids: list[int]) -> dict[int, TriageNote]:
    """{report id: its latest escalation and Community Trigger reasons}, in one query."""
    if not report_ids:
        return {}
    found: dict[int, dict[EventKind, str]] = {}
    rows = session.execute(
        sa.select(CaseEvent.report_id, CaseEvent.kind, CaseEvent.detail)
        .where(
            CaseEvent.report_id.in_(report_ids),
            CaseEvent.kind.in_([EventKind.ESCALATED, EventKind.TRIGGER_FLAGGED]),
        )
        .order_by(CaseEvent.at, CaseEvent.id)
    )
    for report_id, kind, detail in rows:
        found.setdefault(report_id, {})[kind] = detail
    return {
        report_id: TriageNote(kinds.get(EventKind.ESCALATED), kinds.get(EventKind.TRIGGER_FLAGGED))
        for report_id, kinds in found.items()
    }
