"""Reading reports for the public map, list and API, with the same filters everywhere.

Every public output is built from ``public_lon``/``public_lat`` and ``PublicReport``, which
leaves out the title, description and photos of sensitive reports, so no view can leak them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.reports.models import Category, Report, ReportCell, ReportStatus
from geo.bbox import BBox
from geo.grid import cell_of, cell_range, choose_level, split_dates
from geo.spatial_sql import index_filter

MAX_DATE_SPAN_YEARS = 20


class FilterError(ValueError):
    """A filter value is not valid; ``field`` names the parameter."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


@dataclass(frozen=True)
class ReportFilter:
    categories: tuple[int, ...] = ()
    statuses: tuple[str, ...] = ()
    ward: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None

    def report_clauses(self) -> list[sa.ColumnElement[bool]]:
        clauses: list[sa.ColumnElement[bool]] = []
        if self.categories:
            clauses.append(Report.category_id.in_(self.categories))
        if self.statuses:
            clauses.append(Report.status.in_([ReportStatus(s) for s in self.statuses]))
        if self.ward:
            clauses.append(Report.ward_code == self.ward)
        if self.start:
            clauses.append(Report.created_at >= _midnight(self.start))
        if self.end:
            clauses.append(Report.created_at < _midnight(self.end + dt.timedelta(days=1)))
        return clauses


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _parse_date(value: str, name: str, label: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise FilterError(name, f"{label} must be a real date, like 2026-03-31") from None


def parse_filter(
    session: Session,
    *,
    categories: list[str],
    statuses: list[str],
    ward: str | None,
    start: str | None,
    end: str | None,
) -> ReportFilter:
    """Turn query-string values into a ``ReportFilter``.

    Categories are slugs and wards are GSS codes. Raises FilterError for an unknown
    category, status or ward, a malformed date, or a start after the end.
    """
    category_ids: list[int] = []
    wanted = [c for c in categories if c]
    if wanted:
        found = dict(
            session.execute(sa.select(Category.slug, Category.id).where(Category.slug.in_(wanted))).tuples().all()
        )
        for slug in wanted:
            if slug not in found:
                raise FilterError("category", f"There is no category {slug[:40]!r}: choose one from the list")
            category_ids.append(found[slug])
    valid_statuses = {s.value for s in ReportStatus}
    chosen = [s for s in statuses if s]
    for status in chosen:
        if status not in valid_statuses:
            raise FilterError("status", f"Status must be one of {', '.join(sorted(valid_statuses))}")
    ward = (ward or "").strip() or None
    if ward:
        from app.geography.models import Ward

        if session.scalar(sa.select(Ward.id).where(Ward.code == ward)) is None:
            raise FilterError("ward", f"There is no ward {ward[:20]!r}: choose one from the list")
    start_date = _parse_date(start, "from", "The ‘from’ date") if start and start.strip() else None
    end_date = _parse_date(end, "to", "The ‘to’ date") if end and end.strip() else None
    if start_date and end_date and start_date > end_date:
        raise FilterError("from", "The ‘from’ date must be on or before the ‘to’ date")
    return ReportFilter(tuple(category_ids), tuple(dict.fromkeys(chosen)), ward, start_date, end_date)


@dataclass
class PublicReport:
    """What the public may see of a report."""

    id: int
    reference: str
    category: str
    category_slug: str
    sensitive: bool
    status: ReportStatus
    ward_code: str | None
    lon: float
    lat: float
    created_at: dt.datetime | None
    title: str | None
    description: str | None
    name: str | None
    photo_ids: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, report: Report) -> PublicReport:
        sensitive = report.category.sensitive
        return cls(
            id=report.id,
            reference=report.reference,
            category=report.category.name,
            category_slug=report.category.slug,
            sensitive=sensitive,
            status=report.status,
            # For sensitive reports only category, status and the coarse point are public.
            ward_code=None if sensitive else report.ward_code,
            lon=report.public_lon,
            lat=report.public_lat,
            created_at=None if sensitive else report.created_at,
            title=None if sensitive else report.title,
            description=None if sensitive else report.description,
            name=None if sensitive else report.public_name,
            photo_ids=[] if sensitive else [p.id for p in report.photos],
        )

    @property
    def display_title(self) -> str:
        return self.title or f"{self.category} report"

    def geojson_properties(self, url: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "reference": self.reference,
            "title": self.title,
            "category": self.category,
            "category_slug": self.category_slug,
            "sensitive": self.sensitive,
            "status": self.status.value,
            "status_label": self.status.label,
            "ward": self.ward_code,
            "created": self.created_at.isoformat() if self.created_at else None,
            "url": url,
        }


def _public_query() -> sa.Select[tuple[Report]]:
    # The photos relationship is eager (selectin), so a page costs a fixed number of queries.
    return sa.select(Report)


# SpatiaLite reaches its R*Tree only through a subquery that lists every rowid in the box
# before any other condition applies: quick for a street, but over a second for the whole
# city at 1M reports, where testing the coordinates lets SQLite lead with another index
# (created_at for a date filter) or scan. PostgreSQL's planner weighs its GiST index itself.
# See docs/benchmarks.md.
SQLITE_RTREE_MAX_AREA = 0.0004  # square degrees: about 3 km² at Coventry


def _in_box(dialect: str, box: BBox) -> list[sa.ColumnElement[bool]]:
    """Reports whose public location lies in ``box`` (edges included)."""
    if dialect == "sqlite" and box.width * box.height > SQLITE_RTREE_MAX_AREA:
        return [
            Report.public_lon.between(box.min_lon, box.max_lon),
            Report.public_lat.between(box.min_lat, box.max_lat),
        ]
    return [index_filter(dialect, Report.__table__, "public_geom", box)]  # type: ignore[arg-type]


def _where(session: Session, filters: ReportFilter, box: BBox | None) -> list[sa.ColumnElement[bool]]:
    clauses = [Report.published_at.is_not(None), *filters.report_clauses()]
    if box is not None:
        clauses.extend(_in_box(session.get_bind().dialect.name, box))
    return clauses


def count_reports(session: Session, filters: ReportFilter, box: BBox | None = None) -> int:
    """How many reports match ``filters`` (and, if given, lie publicly within ``box``)."""
    query = sa.select(sa.func.count()).select_from(Report).where(*_where(session, filters, box))
    return session.scalar(query) or 0


def list_reports(
    session: Session, filters: ReportFilter, *, page: int, per_page: int, box: BBox | None = None
) -> list[PublicReport]:
    """One page of reports, newest first, in their public form."""
    rows = session.scalars(
        _public_query()
        .where(*_where(session, filters, box))
        .order_by(Report.created_at.desc(), Report.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return [PublicReport.of(r) for r in rows]


def get_public_report(session: Session, report_id: int) -> PublicReport | None:
    """The public form of a published report, or None if there is none (or it awaits confirmation)."""
    report = session.get(Report, report_id)
    return PublicReport.of(report) if report and report.is_published else None


@dataclass
class Cluster:
    lon: float
    lat: float
    count: int


def cluster_cells(session: Session, box: BBox, filters: ReportFilter, level: int) -> list[Cluster]:
    """Count reports per grid cell at ``level`` over the cells that touch ``box``.

    Whole months come from ``report_cells``; days of a part month at either end of the
    date filter are counted from the reports themselves.
    """
    min_x, min_y, max_x, max_y = cell_range(box, level)
    cells: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    months, edges = split_dates(filters.start, filters.end)
    if months is not None:
        clauses = [
            ReportCell.level == level,
            ReportCell.cx.between(min_x, max_x),
            ReportCell.cy.between(min_y, max_y),
            ReportCell.period.between(*months),
        ]
        if filters.categories:
            clauses.append(ReportCell.category_id.in_(filters.categories))
        if filters.statuses:
            clauses.append(ReportCell.status.in_(filters.statuses))
        if filters.ward:
            clauses.append(ReportCell.ward_code == filters.ward)
        rows = session.execute(
            sa.select(
                ReportCell.cx,
                ReportCell.cy,
                sa.func.sum(ReportCell.n),
                sa.func.sum(ReportCell.sum_lon),
                sa.func.sum(ReportCell.sum_lat),
            )
            .where(*clauses)
            .group_by(ReportCell.cx, ReportCell.cy)
        )
        for cx, cy, n, slon, slat in rows:
            cell = cells[(cx, cy)]
            cell[0] += int(n)
            cell[1] += float(slon)
            cell[2] += float(slat)
    if edges:
        cells_box = BBox(*_cells_bounds(min_x, min_y, max_x, max_y, level))
        dialect = session.get_bind().dialect.name
        base = ReportFilter(filters.categories, filters.statuses, filters.ward)
        for start, end in edges:
            edge = ReportFilter(start=start, end=end)
            rows = session.execute(
                sa.select(Report.public_lon, Report.public_lat).where(
                    Report.published_at.is_not(None),
                    *_in_box(dialect, cells_box),
                    *base.report_clauses(),
                    *edge.report_clauses(),
                )
            )
            for lon, lat in rows:
                cell = cells[cell_of(lon, lat, level)]
                cell[0] += 1
                cell[1] += lon
                cell[2] += lat
    return [Cluster(lon=s[1] / s[0], lat=s[2] / s[0], count=int(s[0])) for s in cells.values() if s[0] > 0]


def _cells_bounds(min_x: int, min_y: int, max_x: int, max_y: int, level: int) -> tuple[float, float, float, float]:
    from geo.grid import cell_size

    size = cell_size(level)
    return min_x * size, min_y * size, (max_x + 1) * size, (max_y + 1) * size


def points_in_box(session: Session, box: BBox, filters: ReportFilter, limit: int) -> list[PublicReport]:
    """Reports whose public location is in ``box``, newest first, at most ``limit``."""
    rows = session.scalars(
        sa.select(Report)
        .where(*_where(session, filters, box))
        .order_by(Report.created_at.desc(), Report.id.desc())
        .limit(limit)
    ).all()
    return [PublicReport.of(r) for r in rows]


def map_features(
    session: Session, box: BBox, filters: ReportFilter, *, max_points: int, url_for_report: Any
) -> dict[str, Any]:
    """The map's GeoJSON for ``box``: each report while there are at most ``max_points``,
    otherwise one feature per grid cluster with its count."""
    level = choose_level(box)
    clusters = cluster_cells(session, box, filters, level)
    total = sum(c.count for c in clusters)
    if total <= max_points:
        reports = points_in_box(session, box, filters, max_points)
        return {
            "type": "FeatureCollection",
            "mode": "points",
            "total": len(reports),
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [round(r.lon, 6), round(r.lat, 6)]},
                    "properties": r.geojson_properties(url_for_report(r.id)),
                }
                for r in reports
            ],
        }
    return {
        "type": "FeatureCollection",
        "mode": "clusters",
        "total": total,
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(c.lon, 5), round(c.lat, 5)]},
                "properties": {"cluster": True, "count": c.count},
            }
            for c in clusters
        ],
    }
