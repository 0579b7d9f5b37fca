"""The ASB case review ("Community Trigger") hint.

Under the Anti-social Behaviour, Crime and Policing Act 2014 a resident can ask for a case
review when anti-social behaviour has been reported several times in six months. TellUs
cannot know what each council's local threshold is, so it flags a likely case for council
triage to look at: when an anti-social behaviour report is published and it makes **three or
more** such reports within six months (183 days, counted back from its publication, inclusive)

- from the same resident (the same account, or the same email address in any case), or
- within 100 metres of each other (this one and at least two others within 100 m of it),

the report gets ``trigger_flagged_at``, a ``TRIGGER_FLAGGED`` event naming the reason and the
related references, and shows in the triage queue and on its case page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, raiseload

from app import permissions
from app.audit.services import record
from app.coordination.history import log
from app.coordination.models import Case, CaseClaim, CaseRoute, EventKind
from app.db import utcnow
from app.reports.models import Category, Report
from geo.coords import Point
from geo.spatial_sql import within_m

# The slug of the anti-social behaviour category (migrations/versions/*_seed_categories.py).
ASB_SLUG = "anti-social-behaviour"
WINDOW = dt.timedelta(days=183)
NEARBY_M = 100.0
THRESHOLD = 3
LABEL = "Possible Community Trigger (ASB case review)"
# References named in an event's detail (which holds 500 characters).
MAX_NAMED = 10


@dataclass(frozen=True)
class TriggerCheck:
    """The other anti-social behaviour reports that count with ``report``: from the same
    resident, and within 100 m, in the six months up to its publication (oldest first)."""

    report: Report
    same_resident: list[Report] = field(default_factory=list)
    nearby: list[Report] = field(default_factory=list)

    @property
    def by_resident(self) -> bool:
        return len(self.same_resident) + 1 >= THRESHOLD

    @property
    def by_place(self) -> bool:
        return len(self.nearby) + 1 >= THRESHOLD

    @property
    def flagged(self) -> bool:
        return self.by_resident or self.by_place

    @property
    def related(self) -> list[Report]:
        """Every other report that counts, once each, oldest first."""
        found = {r.id: r for r in [*self.same_resident, *self.nearby]}
        return sorted(found.values(), key=lambda r: (r.published_at, r.id))

    def reasons(self) -> list[str]:
        said = []
        if self.by_resident:
            said.append(
                f"{len(self.same_resident) + 1} anti-social behaviour reports from the same resident within six "
                f"months: {_references(self.same_resident)} and this one"
            )
        if self.by_place:
            said.append(
                f"{len(self.nearby) + 1} anti-social behaviour reports within {NEARBY_M:.0f} metres of each other "
                f"within six months: {_references(self.nearby)} and this one"
            )
        return said


def _references(reports: list[Report]) -> str:
    named = ", ".join(r.reference for r in reports[:MAX_NAMED])
    return named + (f" and {len(reports) - MAX_NAMED} more" if len(reports) > MAX_NAMED else "")


def asb_category_id(session: Session) -> int | None:
    return session.scalar(sa.select(Category.id).where(Category.slug == ASB_SLUG))


def check(session: Session, report: Report) -> TriggerCheck:
    """The anti-social behaviour reports that count with ``report`` (none unless it is a
    published anti-social behaviour report). Two queries, the place one through the spatial
    index."""
    asb = asb_category_id(session)
    if asb is None or report.category_id != asb or report.published_at is None:
        return TriggerCheck(report)
    window = [
        Report.category_id == asb,
        Report.published_at.is_not(None),
        Report.published_at >= report.published_at - WINDOW,
        Report.published_at <= report.published_at,
        Report.id != report.id,
    ]
    same = sa.func.lower(Report.reporter_email) == (report.reporter_email or "").lower()
    if report.reporter_id is not None:
        same = sa.or_(same, Report.reporter_id == report.reporter_id)
    order = (Report.published_at, Report.id)
    dialect = session.get_bind().dialect.name
    near = within_m(dialect, Report.__table__, "geom", Point(lon=report.lon, lat=report.lat), NEARBY_M)  # type: ignore[arg-type]

    def found(*clauses: sa.ColumnElement[bool]) -> list[Report]:
        query = sa.select(Report).options(raiseload(Report.photos)).where(*window, *clauses).order_by(*order)
        return list(session.scalars(query))

    return TriggerCheck(report, same_resident=found(same), nearby=found(near))


def flag_if_needed(session: Session, report: Report, *, now: dt.datetime | None = None) -> TriggerCheck | None:
    """Check a report that has just been published and, if it makes three or more anti-social
    behaviour reports within six months from one resident or within 100 m, flag it for council
    triage (``trigger_flagged_at``, a ``TRIGGER_FLAGGED`` event, an audit event). Returns the
    check when it flagged the report, otherwise None (also when it was flagged before)."""
    if report.trigger_flagged_at is not None:
        return None
    result = check(session, report)
    if not result.flagged:
        return None
    moment = now or utcnow()
    report.trigger_flagged_at = moment
    detail = "; ".join(result.reasons())
    log(session, report, EventKind.TRIGGER_FLAGGED, by=None, new=LABEL, detail=detail, at=moment)
    session.flush()
    record(session, "case_trigger_flagged", target=f"report:{report.id}", detail=detail)
    return result


def viewable(session: Session, user: object, reports: list[Report]) -> set[int]:
    """Which of ``reports`` ``user`` may open as cases (``permissions.can_view_case``), in two
    queries whatever their number."""
    ids = [r.id for r in reports if r.published_at is not None]
    if not ids:
        return set()
    routes: dict[int, list[CaseRoute]] = {}
    claims: dict[int, list[CaseClaim]] = {}
    for route in session.scalars(sa.select(CaseRoute).where(CaseRoute.report_id.in_(ids))):
        routes.setdefault(route.report_id, []).append(route)
    for claim in session.scalars(sa.select(CaseClaim).where(CaseClaim.report_id.in_(ids))):
        claims.setdefault(claim.report_id, []).append(claim)
    return {
        r.id
        for r in reports
        if r.id in ids and permissions.can_view_case(user, Case(r, routes.get(r.id, []), claims.get(r.id, [])))
    }
