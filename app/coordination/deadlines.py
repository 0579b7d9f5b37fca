"""Response deadlines: when each organisation must acknowledge a report, and when the lead must
resolve it, in that organisation's working time.

Targets come from ``ResponseTarget`` (per organisation and category) or, where an organisation
has set none, ``DEFAULT``; a high-risk case shortens them (``working_time.targets_for``).

- Each live route's ``acknowledge_due_at`` counts from when it was routed; the report's
  ``acknowledge_due_at`` is the earliest of them until the report is acknowledged, and is then
  kept, so that ``acknowledged_at`` can be compared with it.
- The report's ``resolve_due_at`` is the lead's resolve target counted from publication, so a
  hand-off does not restart the resident's clock; it is empty while nobody leads.

``refresh`` recomputes all of these and is called whenever their inputs change: routing,
declining, claiming the lead, a hand-off, a priority change, a reopening, a coordinator
editing targets or working hours.
"""

from __future__ import annotations

import datetime as dt
import functools

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.coordination.models import CaseClaim, CaseRoute, ClaimRole, ResponseTarget
from app.coordination.working_hours import WorkingHours, parse_working_hours
from app.coordination.working_time import Target, Targets, targets_for
from app.partners.models import Organisation
from app.reports.models import Report

# What applies where an organisation has set no target for a category.
DEFAULT = Targets(acknowledge=Target(working_days=2), resolve=Target(working_days=20))
# Where an organisation's working-hours text cannot be read (the forms refuse such text, but
# older rows may hold it), the usual office hours apply.
OFFICE_HOURS = parse_working_hours("Monday to Friday, 9am to 5pm")


@functools.lru_cache(maxsize=256)
def hours_of_text(text: str) -> WorkingHours:
    """Working hours from an organisation's text, or office hours if it cannot be read."""
    try:
        return parse_working_hours(text)
    except ValueError:
        return OFFICE_HOURS


def hours_of(organisation: Organisation) -> WorkingHours:
    return hours_of_text(organisation.working_hours or "")


def standard_targets(session: Session, organisation_id: int, category_id: int) -> Targets:
    """The organisation's standard targets for the category, or ``DEFAULT``."""
    row = session.scalar(
        sa.select(ResponseTarget).where(
            ResponseTarget.organisation_id == organisation_id, ResponseTarget.category_id == category_id
        )
    )
    return DEFAULT if row is None else targets_of(row)


def targets_of(row: ResponseTarget) -> Targets:
    """The ``Targets`` a stored row describes."""

    def minutes(value: int | None) -> dt.timedelta | None:
        return None if value is None else dt.timedelta(minutes=value)

    return Targets(
        acknowledge=Target(minutes(row.acknowledge_minutes), row.acknowledge_days),
        resolve=Target(minutes(row.resolve_minutes), row.resolve_days),
    )


def case_targets(session: Session, report: Report, organisation: Organisation) -> Targets:
    """The targets ``organisation`` works to on ``report``, given its priority."""
    standard = standard_targets(session, organisation.id, report.category_id)
    return targets_for(report.priority, standard.acknowledge, standard.resolve)


def refresh(session: Session, report: Report) -> None:
    """Recompute the acknowledgement deadline of each live route and of the report, and the
    report's resolution deadline, from the current routes, lead, priority and targets.
    Flushes; raises nothing for a published report (ValueError if it is unpublished)."""
    if report.published_at is None:
        raise ValueError(f"Report {report.id} is not published: it has no deadlines")
    routes = list(session.scalars(sa.select(CaseRoute).where(CaseRoute.report_id == report.id)))
    lead = session.scalar(
        sa.select(CaseClaim).where(CaseClaim.report_id == report.id, CaseClaim.role == ClaimRole.LEAD)
    )
    earliest: dt.datetime | None = None
    for route in routes:
        if route.declined_at is not None:
            route.acknowledge_due_at = None
            continue
        due = case_targets(session, report, route.organisation).acknowledge.deadline(
            route.routed_at, hours_of(route.organisation)
        )
        route.acknowledge_due_at = due
        earliest = due if earliest is None or due < earliest else earliest
    if report.acknowledged_at is None:
        report.acknowledge_due_at = earliest
    if lead is None:
        report.resolve_due_at = None
    else:
        report.resolve_due_at = case_targets(session, report, lead.organisation).resolve.deadline(
            report.published_at, hours_of(lead.organisation)
        )
    session.flush()
