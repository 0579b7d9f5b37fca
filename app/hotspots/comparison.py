"""The dashboard's tables beside the map: top categories, and the ward comparison (reports,
rate per 1,000 residents, IMD 2025, open and overdue work by organisation, median days to
resolve).

Report counts come from ``hex_counts`` (``app.hotspots.analysis`` explains why). Open and
overdue work and the time to resolve describe the cases as they are *now*, so they come from
the reports and their lead claims (the coordination tables), restricted to the same wards and
categories as the rest of the page:

- open: published reports that are new, acknowledged or in progress (whatever the period);
- overdue: an open report past its lead's resolution target (``resolve_due_at``), or, while
  nobody leads it, past its acknowledgement target (``acknowledge_due_at``) unacknowledged;
- median days to resolve: reports published in the period and resolved since (resolved or
  closed with ``resolved_at``), calendar days from publication, as on the performance page.

Each part is one query whatever the number of wards, categories and organisations.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from app.coordination.models import CaseClaim, ClaimRole
from app.coordination.performance import seconds_between
from app.coordination.working_time import LONDON
from app.hotspots.filters import DashboardFilter, scope_clause
from app.hotspots.models import HexCount, WardDeprivation, WardPopulation
from app.partners.models import Organisation
from app.reports.models import Report, ReportStatus

_OPEN = [ReportStatus.NEW, ReportStatus.ACKNOWLEDGED, ReportStatus.IN_PROGRESS]
_DONE = [ReportStatus.RESOLVED, ReportStatus.CLOSED]


def _midnight(day: dt.date) -> dt.datetime:
    """The start of ``day`` in the UK, in UTC."""
    return dt.datetime.combine(day, dt.time(), tzinfo=LONDON).astimezone(dt.UTC)


# --- Report counts in the period -----------------------------------------------------------------


@dataclass(frozen=True)
class PeriodCounts:
    """Reports in the filter's period, categories and statuses, per (ward, category)."""

    cells: dict[tuple[str, int], int]

    @property
    def total(self) -> int:
        return sum(self.cells.values())

    def by_ward(self) -> dict[str, int]:
        found: dict[str, int] = defaultdict(int)
        for (ward, _), n in self.cells.items():
            found[ward] += n
        return dict(found)

    def by_category(self) -> dict[int, int]:
        found: dict[int, int] = defaultdict(int)
        for (_, category_id), n in self.cells.items():
            found[category_id] += n
        return dict(found)

    def top_categories(self, limit: int = 10) -> list[tuple[int, int]]:
        """[(category id, reports)], most reports first (ties by id), at most ``limit``."""
        return sorted(self.by_category().items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


def period_counts(session: Session, filters: DashboardFilter) -> PeriodCounts:
    """Reports per (ward, category) in the filter's days, scope, categories and statuses, from
    ``hex_counts``. One query."""
    clauses = [
        HexCount.day >= filters.start,
        HexCount.day <= filters.end,
        scope_clause(filters, HexCount.__table__.c.ward_code, HexCount.__table__.c.category_id),
    ]
    if filters.statuses:
        clauses.append(HexCount.status.in_([s.value for s in filters.statuses]))
    rows = session.execute(
        sa.select(HexCount.ward_code, HexCount.category_id, sa.func.sum(HexCount.n))
        .where(*clauses)
        .group_by(HexCount.ward_code, HexCount.category_id)
    )
    return PeriodCounts({(ward, int(category_id)): int(n) for ward, category_id, n in rows if n})


# --- Open and overdue work -----------------------------------------------------------------------


@dataclass
class Work:
    """Open cases and how many of them are overdue."""

    open: int = 0
    overdue: int = 0


@dataclass
class OrganisationWork(Work):
    """The open cases one organisation leads (``organisation_id`` None: nobody leads them yet)."""

    organisation_id: int | None = None
    name: str = ""


@dataclass
class OpenWork:
    """Open and overdue cases per ward, and per lead organisation across the wards in view."""

    by_ward: dict[str, Work] = field(default_factory=dict)
    by_organisation: list[OrganisationWork] = field(default_factory=list)

    @property
    def total(self) -> Work:
        return Work(sum(w.open for w in self.by_ward.values()), sum(w.overdue for w in self.by_ward.values()))


def open_work(session: Session, filters: DashboardFilter, *, now: dt.datetime) -> OpenWork:
    """Open cases in the wards and categories in view (within the viewer's scope; the period
    and statuses do not apply: these are the cases open now), per ward and per lead
    organisation, with how many are overdue at ``now`` (module docstring). One query.
    Organisations are listed by open cases, most first; "nobody leads yet" comes last."""
    lead = aliased(CaseClaim)
    overdue = sa.case(
        (lead.organisation_id.is_not(None), sa.case((Report.resolve_due_at < now, 1), else_=0)),
        (sa.and_(Report.acknowledged_at.is_(None), Report.acknowledge_due_at < now), 1),
        else_=0,
    )
    rows = session.execute(
        sa.select(
            Report.ward_code,
            lead.organisation_id,
            Organisation.name,
            Organisation.is_demo,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(overdue), 0),
        )
        .select_from(Report)
        .outerjoin(lead, sa.and_(lead.report_id == Report.id, lead.role == ClaimRole.LEAD))
        .outerjoin(Organisation, Organisation.id == lead.organisation_id)
        .where(
            Report.status.in_(_OPEN),
            Report.published_at.is_not(None),
            scope_clause(filters, Report.__table__.c.ward_code, Report.__table__.c.category_id),
        )
        .group_by(Report.ward_code, lead.organisation_id, Organisation.name, Organisation.is_demo)
    )
    work = OpenWork(by_ward={ward: Work() for ward in filters.wards})
    organisations: dict[int | None, OrganisationWork] = {}
    for ward, organisation_id, name, is_demo, count, late in rows:
        per_ward = work.by_ward.setdefault(ward, Work())
        per_ward.open += int(count)
        per_ward.overdue += int(late)
        label = "Nobody leads yet" if organisation_id is None else (f"{name} (demo)" if is_demo else name)
        row = organisations.setdefault(organisation_id, OrganisationWork(organisation_id=organisation_id, name=label))
        row.open += int(count)
        row.overdue += int(late)
    work.by_organisation = sorted(
        organisations.values(), key=lambda o: (o.organisation_id is None, -o.open, o.name.lower())
    )
    return work


# --- Median days to resolve ----------------------------------------------------------------------


def median_days_to_resolve(session: Session, filters: DashboardFilter) -> tuple[dict[str, float], float | None]:
    """({ward: median days}, median over every ward in view) from publication to resolution,
    for the reports published in the filter's period, categories and scope that have been
    resolved (module docstring). Wards with none resolved are left out. One query.

    The median is worked out in the database, as on the performance page
    (``app.coordination.performance``): each duration numbered in its group (``row_number``)
    and the group counted; the median is the mean of the middle one or two."""
    resolved = sa.and_(Report.resolved_at.is_not(None), Report.status.in_(_DONE))
    cases = (
        sa.select(
            Report.ward_code.label("ward"),
            (seconds_between(Report.published_at, Report.resolved_at) / 86400.0).label("days"),
        )
        .where(
            Report.published_at >= _midnight(filters.start),
            Report.published_at < _midnight(filters.end + dt.timedelta(days=1)),
            resolved,
            scope_clause(filters, Report.__table__.c.ward_code, Report.__table__.c.category_id),
        )
        .cte("resolved_cases")
    )
    parts = []
    for per_ward in (True, False):
        keys = [cases.c.ward] if per_ward else []
        numbered = sa.select(
            (cases.c.ward if per_ward else sa.cast(sa.null(), sa.String)).label("ward"),
            cases.c.days.label("v"),
            sa.func.row_number().over(partition_by=keys or None, order_by=cases.c.days).label("rn"),
            sa.func.count().over(partition_by=keys or None).label("n"),
        ).subquery()
        parts.append(
            sa.select(numbered.c.ward, sa.func.avg(numbered.c.v).label("median"))
            .where(numbered.c.rn * 2 >= numbered.c.n, numbered.c.rn * 2 <= numbered.c.n + 2)
            .group_by(numbered.c.ward)
        )
    by_ward: dict[str, float] = {}
    overall: float | None = None
    for ward, median in session.execute(sa.union_all(*parts)):
        if median is None:
            continue
        if ward is None:
            overall = float(median)
        else:
            by_ward[ward] = float(median)
    return by_ward, overall


# --- The ward comparison -------------------------------------------------------------------------


@dataclass
class WardRow:
    """One ward of the comparison table."""

    code: str
    name: str
    reports: int
    population: WardPopulation | None
    deprivation: WardDeprivation | None
    work: Work
    median_days: float | None
    residents: int | None = None  # the population the rate divides by

    @property
    def rate(self) -> float | None:
        """Reports per 1,000 residents in the period, when the population is loaded."""
        if not self.residents:
            return None
        return 1000 * self.reports / self.residents


@dataclass
class WardComparison:
    rows: list[WardRow]
    by_organisation: list[OrganisationWork]
    total: WardRow
    populations_loaded: bool  # any population for a ward in view
    deprivation_loaded: bool


def ward_comparison(
    session: Session,
    filters: DashboardFilter,
    counts: PeriodCounts,
    ward_names: dict[str, str],
    *,
    now: dt.datetime,
) -> WardComparison:
    """The ward comparison for the wards in view: ``counts`` per ward (from ``period_counts``),
    the rate per 1,000 residents where ``WardPopulation`` has the ward, IMD 2025 context
    (``WardDeprivation``), open and overdue work (``open_work``) and the median days to resolve
    (``median_days_to_resolve``). Rows in ward name order. Four queries."""
    wards = list(filters.wards)
    populations = {
        p.ward_code: p for p in session.scalars(sa.select(WardPopulation).where(WardPopulation.ward_code.in_(wards)))
    }
    deprivation = {
        d.ward_code: d for d in session.scalars(sa.select(WardDeprivation).where(WardDeprivation.ward_code.in_(wards)))
    }
    work = open_work(session, filters, now=now)
    medians, overall_median = median_days_to_resolve(session, filters)
    per_ward = counts.by_ward()
    rows = [
        WardRow(
            code=ward,
            name=ward_names.get(ward, ward),
            reports=per_ward.get(ward, 0),
            population=populations.get(ward),
            deprivation=deprivation.get(ward),
            work=work.by_ward.get(ward, Work()),
            median_days=medians.get(ward),
            residents=populations[ward].population if ward in populations else None,
        )
        for ward in wards
    ]
    rows.sort(key=lambda r: r.name)
    # The total's rate needs every ward's population, or it would divide some wards' reports
    # by other wards' residents.
    everyone = sum(p.population for p in populations.values()) if len(populations) == len(wards) else None
    total = WardRow(
        code="",
        name="All wards shown",
        reports=counts.total,
        population=None,
        deprivation=None,
        work=work.total,
        median_days=overall_median,
        residents=everyone,
    )
    return WardComparison(
        rows=rows,
        by_organisation=work.by_organisation,
        total=total,
        populations_loaded=bool(populations),
        deprivation_loaded=bool(deprivation),
    )
