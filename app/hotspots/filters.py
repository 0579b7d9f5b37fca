"""The dashboard's filters (ward, period, categories, statuses), checked against what the viewer
may see (``permissions.dashboard_scope``); the dashboard, its exports and its alerts share them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.coordination.working_time import LONDON
from app.geography.models import Ward
from app.permissions import WardScope, dashboard_scope
from app.reports.models import Category, ReportStatus
from app.reports.queries import FilterError

# Period choices: how many days back from today (UK local date), today included.
PERIODS = {
    "4w": ("The last 4 weeks", 28),
    "12w": ("The last 12 weeks", 84),
    "6m": ("The last 6 months", 182),
    "12m": ("The last 12 months", 365),
}
DEFAULT_PERIOD = "12w"


@dataclass(frozen=True)
class DashboardFilter:
    """What the dashboard shows: ``wards`` (never empty: the chosen ward, or every ward in
    scope), ``categories`` (empty: every category the scope allows), ``statuses`` (empty:
    every status), the days ``start`` to ``end`` inclusive, and ``scope`` (each ward in view
    with the categories allowed there, None for every category)."""

    wards: tuple[str, ...]
    start: dt.date
    end: dt.date
    scope: WardScope = field(compare=False)
    categories: tuple[int, ...] = ()
    statuses: tuple[ReportStatus, ...] = ()
    period: str = DEFAULT_PERIOD
    ward: str | None = None  # the one ward chosen, if any

    @property
    def city_wide(self) -> bool:
        return self.ward is None


def today() -> dt.date:
    """Today's date in the UK (the dashboard counts UK local days)."""
    return dt.datetime.now(LONDON).date()


def all_ward_codes(session: Session) -> list[str]:
    return list(session.scalars(sa.select(Ward.code).order_by(Ward.name)))


def parse_filter(
    session: Session,
    user: object,
    *,
    ward: str | None,
    period: str | None,
    categories: Iterable[str] = (),
    statuses: Iterable[str] = (),
    on: dt.date | None = None,
) -> DashboardFilter:
    """A ``DashboardFilter`` from query-string values for ``user``. Category values are slugs,
    statuses are ``ReportStatus`` values; empty values mean "all".

    Raises FilterError naming the field: a ward outside the viewer's scope (or unknown), an
    unknown period, category or status, or a category the viewer may not see in the chosen
    ward. Raises PermissionError if the viewer may see no ward at all."""
    scope = dashboard_scope(user, all_ward_codes(session))
    if not scope:
        raise PermissionError("This person may not see the dashboard")
    chosen_ward = (ward or "").strip() or None
    if chosen_ward is not None and chosen_ward not in scope:
        raise FilterError("ward", "Choose a ward from the list")
    in_view = {chosen_ward: scope[chosen_ward]} if chosen_ward else scope
    chosen_period = (period or "").strip() or DEFAULT_PERIOD
    if chosen_period not in PERIODS:
        raise FilterError("period", "Choose a period from the list")
    slugs = [s.strip() for s in categories if s and s.strip()]
    category_ids: list[int] = []
    if slugs:
        rows = session.execute(sa.select(Category.slug, Category.id).where(Category.slug.in_(slugs)))
        found: dict[str, int] = {row.slug: row.id for row in rows}
        for slug in slugs:
            if slug not in found:
                raise FilterError("category", "Choose categories from the list")
            if not any(allowed is None or found[slug] in allowed for allowed in in_view.values()):
                raise FilterError("category", "Choose categories from the list")
            category_ids.append(found[slug])
    chosen_statuses: list[ReportStatus] = []
    for value in (s.strip() for s in statuses if s and s.strip()):
        try:
            chosen_statuses.append(ReportStatus(value))
        except ValueError:
            raise FilterError("status", "Choose statuses from the list") from None
    end = on or today()
    start = end - dt.timedelta(days=PERIODS[chosen_period][1] - 1)
    return DashboardFilter(
        wards=tuple(sorted(in_view)),
        start=start,
        end=end,
        scope=in_view,
        categories=tuple(sorted(set(category_ids))),
        statuses=tuple(dict.fromkeys(chosen_statuses)),
        period=chosen_period,
        ward=chosen_ward,
    )


def scope_clause(
    filters: DashboardFilter, ward_column: sa.ColumnElement[str], category_column: sa.ColumnElement[int]
) -> sa.ColumnElement[bool]:
    """SQL limiting rows (of ``HexCount`` or ``Report``) to the wards in view, each to the
    categories allowed there, and to ``filters.categories`` if any were chosen. Wards allowed
    the same categories share one term, so the SQL stays small."""
    by_categories: dict[frozenset[int] | None, list[str]] = defaultdict(list)
    for ward, allowed in filters.scope.items():
        by_categories[allowed].append(ward)
    terms: list[sa.ColumnElement[bool]] = []
    for allowed, wards in by_categories.items():
        in_wards = ward_column.in_(sorted(wards)) if len(wards) > 1 else ward_column == wards[0]
        terms.append(in_wards if allowed is None else sa.and_(in_wards, category_column.in_(sorted(allowed))))
    clause = sa.or_(*terms) if len(terms) > 1 else terms[0]
    if filters.categories:
        clause = sa.and_(clause, category_column.in_(filters.categories))
    return clause
