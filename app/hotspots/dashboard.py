"""Everything the dashboard page shows for one ``DashboardFilter``, gathered in one call so the
view only renders it. A fixed number of queries (about twenty) whatever the data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.hotspots import analysis, comparison
from app.hotspots.analysis import Emerging, MapCell, Trend
from app.hotspots.comparison import PeriodCounts, WardComparison
from app.hotspots.filters import DashboardFilter
from app.hotspots.models import CITY_RESOLUTION, WARD_RESOLUTION

# Trend charts for the categories chosen, or for this many with the most reports.
TOP_TRENDS = 5
TOP_CATEGORIES = 10


def resolution_for(filters: DashboardFilter) -> int:
    """Resolution 9 (cells of about 0.1 km²) for one ward, 8 (about 0.7 km²) for more."""
    return WARD_RESOLUTION if len(filters.wards) == 1 else CITY_RESOLUTION


@dataclass
class Dashboard:
    filters: DashboardFilter
    resolution: int
    cells: dict[int, MapCell]
    listed: list[MapCell]  # the map's list alternative: cells with reports, or hot or cold
    postcodes: dict[int, str]
    emerging: list[Emerging]
    trends: list[Trend]  # every category together first, then the categories shown
    counts: PeriodCounts
    comparison: WardComparison

    @property
    def hot_cells(self) -> int:
        return sum(1 for c in self.cells.values() if c.result.hot is True)

    @property
    def cold_cells(self) -> int:
        return sum(1 for c in self.cells.values() if c.result.hot is False)


def _listed(cells: dict[int, MapCell]) -> list[MapCell]:
    """Hot spots (highest z first), then cold spots (lowest first), then the other cells with
    reports, most first."""

    def order(c: MapCell) -> tuple[int, float, int]:
        if c.result.hot is True:
            return (0, -c.result.z, c.cell)
        if c.result.hot is False:
            return (1, c.result.z, c.cell)
        return (2, -c.count, c.cell)

    return sorted((c for c in cells.values() if c.count > 0 or c.result.hot is not None), key=order)


def build(session: Session, filters: DashboardFilter, ward_names: dict[str, str], *, now: dt.datetime) -> Dashboard:
    """The dashboard for ``filters`` (already checked against the viewer's scope by
    ``parse_filter``), with open and overdue work as at ``now``."""
    resolution = resolution_for(filters)
    cells, per_ward_category = analysis.map_cells_and_counts(session, filters, resolution)
    listed = _listed(cells)
    trends = analysis.category_trends(session, filters)
    if filters.categories:
        shown = [t for t in trends[1:] if t.category_id in filters.categories]
    else:
        shown = trends[1 : 1 + TOP_TRENDS]
    counts = PeriodCounts(per_ward_category)
    return Dashboard(
        filters=filters,
        resolution=resolution,
        cells=cells,
        listed=listed,
        postcodes=analysis.nearest_postcodes(session, [c.cell for c in listed]),
        emerging=analysis.emerging(
            session,
            wards=filters.wards,
            categories=filters.categories or None,
            today=filters.end,
            scope=filters.scope,
            resolution=resolution,
        ),
        trends=[trends[0], *shown],
        counts=counts,
        comparison=comparison.ward_comparison(session, filters, counts, ward_names, now=now),
    )
