"""Response deadlines: when each organisation must acknowledge a report, and when the lead must
resolve it, in that organisation's working time.

Targets come from ``ResponseTarget`` (per organisation and category) or, where an organisation
has set none, ``DEFAULT``; a high-risk case shortens them (``working_time.targets_for``).

- Each live route's ``acknowledge_due_at`` counts from when it was routed; the report's
  ``acknowledge_due_at`` is the earliest of them until the report is acknowledged, and is then
  kept, so that ``acknowledged_at`` can be compared with it.
- The report's ``resolve_due_at`` is the lead's resolve target counted from publication, so a
  hand-off does not restart the resident's clock; it is empty while nobody leads.
- Each route's ``due_at`` is what that organisation has due next (``route_due_at``): the
  inbox's "due soonest" order and its "overdue" filter read it through an index.

``refresh`` recomputes all of these and is called whenever their inputs change: routing,
declining, claiming the lead, a hand-off, a priority change, a reopening, a coordinator
editing targets or working hours.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session, raiseload

from app.coordination.models import CaseClaim, CaseRoute, ClaimRole, ResponseTarget
from app.coordination.working_hours import WorkingHours, parse_working_hours
from app.coordination.working_time import Target, Targets, targets_for
from app.partners.models import Organisation
from app.reports.models import Report, ReportStatus

OPEN_STATUSES = [s for s in ReportStatus if s.is_open]
# Reports refreshed per round of queries: well under every database's limit on bound values.
BATCH = 500
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
    Flushes. Raises ValueError if the report is not published (it has no deadlines)."""
    if report.published_at is None:
        raise ValueError(f"Report {report.id} is not published: it has no deadlines")
    refresh_many(session, [report])


def refresh_many(session: Session, reports: Iterable[Report]) -> int:
    """``refresh`` for many published reports at once, ``BATCH`` at a time: three queries per
    batch (routes, leads, targets) whatever its size, then one flush. Unpublished reports are
    skipped. Returns how many reports it refreshed."""
    done = 0
    batch: list[Report] = []
    for report in reports:
        if report.published_at is None:
            continue
        batch.append(report)
        if len(batch) == BATCH:
            done += _refresh_batch(session, batch)
            batch = []
    if batch:
        done += _refresh_batch(session, batch)
    session.flush()
    return done


def refresh_organisation(
    session: Session, organisation: Organisation, category_ids: Iterable[int] | None = None
) -> int:
    """Recompute the deadlines of every open case ``organisation`` is routed to (a live route)
    or leads, in ``category_ids`` (every category when None): after its targets or working
    hours change. Batched (``refresh_many``); returns how many cases it refreshed."""
    routed = sa.exists().where(
        CaseRoute.report_id == Report.id,
        CaseRoute.organisation_id == organisation.id,
        CaseRoute.declined_at.is_(None),
    )
    leads = sa.exists().where(
        CaseClaim.report_id == Report.id, CaseClaim.organisation_id == organisation.id, CaseClaim.role == ClaimRole.LEAD
    )
    query = sa.select(Report.id).where(
        Report.published_at.is_not(None), Report.status.in_(OPEN_STATUSES), sa.or_(routed, leads)
    )
    if category_ids is not None:
        chosen = sorted(set(category_ids))
        if not chosen:
            return 0
        query = query.where(Report.category_id.in_(chosen))
    ids = list(session.scalars(query.order_by(Report.id)))
    done = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        reports = session.scalars(sa.select(Report).where(Report.id.in_(chunk)).options(raiseload(Report.photos)))
        done += refresh_many(session, list(reports))
    return done


def _refresh_batch(session: Session, reports: list[Report]) -> int:
    ids = [r.id for r in reports]
    routes = list(session.scalars(sa.select(CaseRoute).where(CaseRoute.report_id.in_(ids))))
    leads = {
        c.report_id: c
        for c in session.scalars(
            sa.select(CaseClaim).where(CaseClaim.report_id.in_(ids), CaseClaim.role == ClaimRole.LEAD)
        )
    }
    organisation_ids = {r.organisation_id for r in routes} | {c.organisation_id for c in leads.values()}
    category_ids = {r.category_id for r in reports}
    standard: dict[tuple[int, int], Targets] = {}
    if organisation_ids:
        for row in session.scalars(
            sa.select(ResponseTarget).where(
                ResponseTarget.organisation_id.in_(organisation_ids), ResponseTarget.category_id.in_(category_ids)
            )
        ):
            standard[row.organisation_id, row.category_id] = targets_of(row)

    def targets(report: Report, organisation_id: int) -> Targets:
        found = standard.get((organisation_id, report.category_id), DEFAULT)
        return targets_for(report.priority, found.acknowledge, found.resolve)

    routes_of: dict[int, list[CaseRoute]] = {}
    for route in routes:
        routes_of.setdefault(route.report_id, []).append(route)
    for report in reports:
        assert report.published_at is not None
        earliest: dt.datetime | None = None
        for route in routes_of.get(report.id, []):
            due = None
            if route.declined_at is None:
                due = targets(report, route.organisation_id).acknowledge.deadline(
                    route.routed_at, hours_of(route.organisation)
                )
                earliest = due if earliest is None or due < earliest else earliest
            _set(route, "acknowledge_due_at", due)
        if report.acknowledged_at is None:
            _set(report, "acknowledge_due_at", earliest)
        lead = leads.get(report.id)
        resolve_due = None
        if lead is not None:
            resolve_due = targets(report, lead.organisation_id).resolve.deadline(
                report.published_at, hours_of(lead.organisation)
            )
        _set(report, "resolve_due_at", resolve_due)
        for route in routes_of.get(report.id, []):
            _set(route, "due_at", route_due_at(report, route, led=lead is not None))
    return len(reports)


def sync_due_at(session: Session, report: Report) -> None:
    """Set each of ``report``'s routes' ``due_at`` from the deadlines and status it has now,
    without recomputing the deadlines (``refresh`` does both). Flushes."""
    routes = session.scalars(sa.select(CaseRoute).where(CaseRoute.report_id == report.id))
    led = session.scalar(
        sa.select(sa.exists().where(CaseClaim.report_id == report.id, CaseClaim.role == ClaimRole.LEAD))
    )
    for route in routes:
        _set(route, "due_at", route_due_at(report, route, led=bool(led)))
    session.flush()


def route_due_at(report: Report, route: CaseRoute, *, led: bool) -> dt.datetime | None:
    """What ``route``'s organisation has due next on ``report`` (``CaseRoute.due_at``, which the
    inbox sorts by): its own acknowledgement while nobody leads the report, then the lead's
    resolution; None for a declined route or a report that is not open."""
    if route.declined_at is not None or not report.status.is_open:
        return None
    return report.resolve_due_at if led else route.acknowledge_due_at


def _set(row: object, name: str, value: dt.datetime | None) -> None:
    # Assign only real changes, so a batch that changes nothing writes nothing.
    if getattr(row, name) != value:
        setattr(row, name, value)
