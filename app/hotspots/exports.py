"""CSV and GeoJSON exports of the dashboard: its filtered reports and its hotspot layer.

Exports are streamed: rows come from the database in batches of ``BATCH_ROWS`` (a server-side
cursor on PostgreSQL, SQLite's own step-by-step reads), as plain columns (never ORM objects,
so the session's identity map does not grow), and each batch is written to a small buffer and
handed on before the next is read. A GeoJSON FeatureCollection is opened, its features written
one by one, and closed. A million rows take about as much memory as one batch
(docs/exports.md, docs/benchmarks.md).

What a viewer sees of each report follows ``permissions.can_see_exact_location``: the exact
point and full text, or what the public sees of that category (``PublicReport.of`` in
app/reports/queries.py): for a sensitive category only its category, status and public
(~500 m) location. The answer is worked out once per (ward, category) before streaming, never
per row. Reporters' names and email addresses are never exported.

Every export carries the licence and attribution (``LICENCE``, ``ATTRIBUTION``, ``TERMS``): in
a GeoJSON file's top-level ``metadata`` member, and for CSV in HTTP headers and a CSV on the
Web metadata document (``csvw_metadata``), so that the CSV itself stays plain.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import h3
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import permissions
from app.geography.models import Ward
from app.hotspots.analysis import map_cells
from app.hotspots.counts import UK, day_of
from app.hotspots.filters import PERIODS, DashboardFilter, scope_clause
from app.hotspots.layers import hotspot_label
from app.hotspots.models import CITY_RESOLUTION, WARD_RESOLUTION
from app.reports.models import Category, Report, ReportStatus
from geo import hexes
from geo.coarsen import CELL_LAT
from geo.hotspot_stats import FDR_Q, K_RING, MIN_COUNT

# Rows read from the database and written out at a time: enough to keep the per-row cost low,
# few enough that a batch stays well under a megabyte of Python objects.
BATCH_ROWS = 1000

LICENCE = {
    "name": "Open Government Licence v3.0",
    "url": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
}
# The attributions of ../shared/data/coventry/README.md that apply to both exports: ward codes
# and outlines (ONS, OS) and locations that may be a postcode's centroid (OS Code-Point Open:
# OS, Royal Mail, National Statistics). Neither export holds deprivation data, so the English
# Indices of Deprivation's attribution is not needed.
ATTRIBUTION = (
    "Contains OS data © Crown copyright and database right 2025",
    "Contains Royal Mail data © Royal Mail copyright and database right 2025",
    "Contains National Statistics data © Crown copyright and database right 2025",
    "Source: Office for National Statistics licensed under the Open Government Licence v.3.0",
)
# What /about/data says of the reports themselves. It names no open licence for them, so an
# export does not claim one: the OGL above covers the reference geography.
TERMS = (
    "Reports made by the public to TellUs Coventry, exported for the partnership's own work; "
    "no open licence is given for them. Reporters' names and email addresses are never included. "
    "Exact locations and text of reports in sensitive categories are included only where your "
    "role allows (see 'coarsening'); keep this file within your organisation."
)
CRS = "EPSG:4326 (WGS84 longitude, latitude)"
COARSE_SIZE_M = round(CELL_LAT * 111_320)  # geo.coarsen's square, about 500 m


# --- Who sees what exactly -----------------------------------------------------------------------


@dataclass
class _Place:
    """A (ward, category) pair in the shape ``permissions.can_see_exact_location`` asks about."""

    ward_code: str
    category_id: int


def categories_in_view(filters: DashboardFilter, all_categories: Iterable[int]) -> dict[str, frozenset[int]]:
    """Each ward in ``filters`` with the categories an export may hold there: those its scope
    allows (all of ``all_categories`` where it allows every category), narrowed to the chosen
    categories if any."""
    everything = frozenset(all_categories)
    chosen = frozenset(filters.categories) if filters.categories else everything
    return {ward: (everything if allowed is None else allowed) & chosen for ward, allowed in filters.scope.items()}


def exact_places(user: object, in_view: dict[str, frozenset[int]]) -> frozenset[tuple[str, int]]:
    """The (ward, category) pairs of ``in_view`` whose reports ``user`` may see exactly, asked of
    ``permissions.can_see_exact_location`` once per pair (at most wards × categories calls, with
    no query once the user's memberships are loaded) so that no row needs a check of its own."""
    return frozenset(
        (ward, category_id)
        for ward, categories in in_view.items()
        for category_id in categories
        if permissions.can_see_exact_location(user, _Place(ward, category_id))
    )


@dataclass(frozen=True)
class CategoryInfo:
    name: str
    slug: str
    sensitive: bool


def _categories(session: Session) -> dict[int, CategoryInfo]:
    rows = session.execute(sa.select(Category.id, Category.name, Category.slug, Category.sensitive))
    return {row.id: CategoryInfo(row.name, row.slug, row.sensitive) for row in rows}


def _period_bounds(filters: DashboardFilter) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants of UK midnight at the start of ``filters.start`` and after ``filters.end``:
    reports whose UK local day (``counts.day_of``) is in the period, as the dashboard counts."""
    start = dt.datetime.combine(filters.start, dt.time(), tzinfo=UK).astimezone(dt.UTC)
    end = dt.datetime.combine(filters.end + dt.timedelta(days=1), dt.time(), tzinfo=UK).astimezone(dt.UTC)
    return start, end


def describe_filters(filters: DashboardFilter, categories: dict[int, CategoryInfo]) -> dict[str, Any]:
    return {
        "ward": filters.ward,
        "wards": list(filters.wards),
        "period": filters.period,
        "period_label": PERIODS[filters.period][0],
        "from": filters.start.isoformat(),
        "to": filters.end.isoformat(),
        "days": "UK local date each report was made, both ends included",
        "categories": sorted(categories[c].slug for c in filters.categories if c in categories),
        "statuses": [s.value for s in filters.statuses],
    }


# --- Reports -------------------------------------------------------------------------------------

# (column, description): the CSV's columns in order; GeoJSON features have the same properties
# except lon and lat, which are the geometry.
REPORT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("reference", "The report's reference, as on its page"),
    ("id", "The report's number"),
    ("url", "The report's public page"),
    ("category", "Category name"),
    ("category_slug", "Category identifier"),
    ("sensitive", "Whether the category is sensitive (true or false)"),
    ("status", "new, acknowledged, in_progress, resolved or closed"),
    ("ward_code", "ONS GSS code of the ward (2004 pattern); empty where coarsened"),
    ("ward_name", "Ward name; empty where coarsened"),
    ("created_at", "When the report was made, ISO 8601 UTC; empty where coarsened"),
    ("created_day", "The UK local date it was made (the day the dashboard counts it on); empty where coarsened"),
    ("location", f"exact, or approximate: the centre of a square of about {COARSE_SIZE_M} m"),
    ("lon", "Longitude, WGS84, 6 decimal places"),
    ("lat", "Latitude, WGS84, 6 decimal places"),
    ("title", "Title as the reporter wrote it; empty where coarsened"),
    ("description", "Description as the reporter wrote it; empty where coarsened"),
)
REPORT_FIELDS = tuple(name for name, _ in REPORT_COLUMNS)
_PROPERTY_FIELDS = tuple(name for name in REPORT_FIELDS if name not in {"lon", "lat"})


@dataclass(frozen=True)
class ReportExport:
    """Everything a report export needs, worked out before streaming starts (so streaming runs
    no query but the rows' own, and needs nothing from the request)."""

    filters: DashboardFilter
    exact: frozenset[tuple[str, int]]
    in_view: dict[str, frozenset[int]]
    categories: dict[int, CategoryInfo]
    ward_names: dict[str, str]
    report_url: str  # with "{id}" where the report's number goes
    generated_at: dt.datetime

    @property
    def coarsened(self) -> dict[str, list[int]]:
        """The wards (with their categories) where this viewer gets reports coarsened: sensitive
        categories in view that they may not see exactly."""
        out: dict[str, list[int]] = {}
        for ward, categories in sorted(self.in_view.items()):
            hidden = sorted(c for c in categories if self.categories[c].sensitive and (ward, c) not in self.exact)
            if hidden:
                out[ward] = hidden
        return out


def prepare_reports(
    session: Session, user: object, filters: DashboardFilter, *, report_url: str, now: dt.datetime
) -> ReportExport:
    """What ``user`` may export of the reports ``filters`` select; ``report_url`` has "{id}" in
    it. Runs a fixed number of queries (categories, wards, the user's memberships)."""
    categories = _categories(session)
    in_view = categories_in_view(filters, categories)
    names = dict(session.execute(sa.select(Ward.code, Ward.name)).tuples().all())
    return ReportExport(
        filters=filters,
        exact=exact_places(user, in_view),
        in_view=in_view,
        categories=categories,
        ward_names=names,
        report_url=report_url,
        generated_at=now,
    )


def _columns_for_filtering(dialect: str) -> dict[str, sa.ColumnElement[Any]]:
    """The columns the export filters on, as SQL that no index but created_at's can serve on
    SQLite. Without statistics SQLite takes the ward (or category, status, published_at) index
    and then sorts every matching row in a temporary B-tree held in memory (240 MB for 1M
    reports, docs/benchmarks.md); walking the created_at index reads the rows already in order
    (its entries end with the rowid, which is the id), so nothing is held. A unary ``+`` is
    SQLite's documented way to keep a term off an index and changes no value. PostgreSQL keeps
    the plain columns: it sorts on the server, within work_mem."""
    table = Report.__table__
    if dialect != "sqlite":
        return {name: table.c[name] for name in ("ward_code", "category_id", "status", "published_at")}
    return {
        "ward_code": sa.literal_column("+reports.ward_code", sa.String),
        "category_id": sa.literal_column("+reports.category_id", sa.Integer),
        "status": sa.literal_column("+reports.status", sa.String),
        "published_at": sa.literal_column("+reports.published_at"),
    }


def report_query(filters: DashboardFilter, dialect: str) -> sa.Select[Any]:
    """The published reports ``filters`` select, oldest first, as plain columns, for ``dialect``
    ("postgresql" or "sqlite")."""
    start, end = _period_bounds(filters)
    column = _columns_for_filtering(dialect)
    query = (
        sa.select(
            Report.id,
            Report.category_id,
            Report.status,
            Report.ward_code,
            Report.created_at,
            Report.lon,
            Report.lat,
            Report.public_lon,
            Report.public_lat,
            Report.title,
            Report.description,
        )
        .select_from(Report.__table__)
        .where(
            column["published_at"].is_not(None),
            scope_clause(filters, column["ward_code"], column["category_id"]),
            Report.created_at >= start,
            Report.created_at < end,
        )
    )
    if filters.statuses:
        query = query.where(column["status"].in_([s.value for s in filters.statuses]))
    return query.order_by(Report.created_at, Report.id)


def _shape(row: Any, export: ReportExport) -> tuple[Any, ...]:
    """One report as ``REPORT_FIELDS``: in full where the viewer may see it exactly, otherwise
    as the public sees it (``PublicReport.of``): a sensitive category then shows only its
    category, status and public location; another category shows what its public page does."""
    category = export.categories[row.category_id]
    status = row.status.value if isinstance(row.status, ReportStatus) else row.status
    head = (f"TC-{row.id:06d}", row.id, export.report_url.format(id=row.id), category.name, category.slug)
    if (row.ward_code, row.category_id) in export.exact:
        lon, lat, location = row.lon, row.lat, "exact"
    else:
        lon, lat = row.public_lon, row.public_lat
        location = "approximate" if category.sensitive else "exact"
        if category.sensitive:
            return (*head, True, status, None, None, None, None, location, round(lon, 6), round(lat, 6), None, None)
    return (
        *head,
        category.sensitive,
        status,
        row.ward_code,
        export.ward_names.get(row.ward_code),
        row.created_at.isoformat(),
        day_of(row.created_at).isoformat(),
        location,
        round(lon, 6),
        round(lat, 6),
        row.title,
        row.description,
    )


def report_batches(
    session: Session, export: ReportExport, *, batch: int = BATCH_ROWS
) -> Iterator[list[tuple[Any, ...]]]:
    """The selected reports as ``REPORT_FIELDS`` tuples, ``batch`` at a time, read with one
    streamed query. Closing the iterator early closes the cursor."""
    query = report_query(export.filters, session.get_bind().dialect.name)
    result = session.execute(query.execution_options(yield_per=batch))
    try:
        for rows in result.partitions():
            yield [_shape(row, export) for row in rows]
    finally:
        result.close()


def _csv_text(value: Any) -> Any:
    # Spreadsheets run a cell that starts with one of these as a formula; titles and
    # descriptions are typed by the public.
    if isinstance(value, str) and value[:1] in {"=", "+", "-", "@", "\t", "\r"}:
        return "'" + value
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


class _Buffer:
    """What ``csv.writer`` writes one batch into: a list of strings joined once per batch. (An
    ``io.StringIO`` keeps four bytes a character and copies again on ``getvalue``: several times
    the batch's size.)"""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts.clear()
        return text


def reports_csv(session: Session, export: ReportExport) -> Iterator[str]:
    """The reports as CSV (RFC 4180, a header row then one row per report), one chunk per batch."""
    buffer = _Buffer()
    writer = csv.writer(buffer)
    writer.writerow(REPORT_FIELDS)
    yield buffer.take()
    for rows in report_batches(session, export):
        writer.writerows([_csv_text(v) for v in row] for row in rows)
        yield buffer.take()


def coarsening_rule(export: ReportExport) -> dict[str, Any]:
    """How this viewer's export treats sensitive categories, for the metadata."""
    coarsened = export.coarsened
    sensitive = sorted(info.slug for info in export.categories.values() if info.sensitive)
    public_view = (
        "category, status and the centre of a square of about "
        f"{COARSE_SIZE_M} m; no title, description, ward or date, as on the public map"
    )
    if coarsened:
        rule = (
            "Reports in the sensitive categories listed under 'coarsened' for their ward are ones your role "
            f"does not let you see exactly: they show only what the public sees ({public_view}), with "
            "location 'approximate'. Every other report has its exact location and full text."
        )
    else:
        rule = "Your role lets you see the exact location and full text of every report in this export."
    return {
        "rule": rule,
        "sensitive_categories": sensitive,
        "coarsened": {ward: [export.categories[c].slug for c in categories] for ward, categories in coarsened.items()},
        "personal_data": "Reporters' names and email addresses are never exported.",
    }


def report_metadata(export: ReportExport) -> dict[str, Any]:
    return {
        "dataset": "TellUs Coventry reports selected on the ward dashboard",
        "generated_at": export.generated_at.isoformat(timespec="seconds"),
        "crs": CRS,
        "licence": LICENCE["name"],
        "licence_url": LICENCE["url"],
        "attribution": list(ATTRIBUTION),
        "terms": TERMS,
        "filters": describe_filters(export.filters, export.categories),
        "coarsening": coarsening_rule(export),
        "properties": dict(REPORT_COLUMNS),
    }


def _feature_collection_head(metadata: dict[str, Any]) -> str:
    return '{"type":"FeatureCollection","metadata":' + _json(metadata) + ',"features":[\n'


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def reports_geojson(session: Session, export: ReportExport) -> Iterator[str]:
    """The reports as a GeoJSON FeatureCollection (RFC 7946) with a top-level ``metadata``
    member, written feature by feature, one chunk per batch."""
    yield _feature_collection_head(report_metadata(export))
    separator = ""
    for rows in report_batches(session, export):
        parts: list[str] = []
        for row in rows:
            values = dict(zip(REPORT_FIELDS, row, strict=True))
            lon, lat = values.pop("lon"), values.pop("lat")
            parts.extend(
                (
                    separator,
                    '{"type":"Feature","geometry":{"type":"Point","coordinates":[',
                    f"{lon!r},{lat!r}",
                    ']},"properties":',
                    _json(values),
                    "}",
                )
            )
            separator = ",\n"
        yield "".join(parts)
    yield "\n]}\n"


# --- The hotspot layer ---------------------------------------------------------------------------

HOTSPOT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("h3_index", "The H3 cell (hexagon), as H3's hexadecimal string"),
    ("resolution", "H3 resolution: 8 (about 0.74 km² a cell) or 9 (about 0.11 km²)"),
    ("count", "Published reports made in the cell in the period (at their public location)"),
    ("z", "Getis-Ord Gi* z-score: above 0, more reports around the cell than the area's average"),
    ("p", "Two-sided p-value of z"),
    ("tested", "Whether the cell had enough reports around it to be tested (true or false)"),
    ("significant", f"Hot or cold at the false discovery rate of {FDR_Q:.0%} (what alerts use; true or false)"),
    ("hotspot", "hot, cold or none"),
    ("confidence", "99, 95 or 90 (%) for a hot or cold spot under the Benjamini-Hochberg false discovery rate"),
    ("label", "The class in words, as on the dashboard's legend and table"),
    ("wards", "GSS codes of the wards the cell belongs to, separated by ';'"),
    ("ward_names", "Their names, separated by ';'"),
    ("centre_lon", "Longitude of the cell's centre (CSV only; GeoJSON has the hexagon)"),
    ("centre_lat", "Latitude of the cell's centre (CSV only)"),
)
HOTSPOT_FIELDS = tuple(name for name, _ in HOTSPOT_COLUMNS)
RESOLUTIONS = (CITY_RESOLUTION, WARD_RESOLUTION)


def default_resolution(filters: DashboardFilter) -> int:
    """The dashboard's: a ward's finer cells when one ward is chosen, the city's otherwise."""
    return CITY_RESOLUTION if filters.city_wide else WARD_RESOLUTION


@dataclass(frozen=True)
class HotspotCell:
    h3_index: str
    resolution: int
    count: int
    z: float | None
    p: float | None
    tested: bool
    significant: bool
    hotspot: str
    confidence: int | None
    label: str
    wards: tuple[str, ...]
    ward_names: tuple[str, ...]
    centre: tuple[float, float]
    cell: int

    def values(self) -> tuple[Any, ...]:
        return (
            self.h3_index,
            self.resolution,
            self.count,
            self.z,
            self.p,
            self.tested,
            self.significant,
            self.hotspot,
            self.confidence,
            self.label,
            self.wards,
            self.ward_names,
            round(self.centre[0], 6),
            round(self.centre[1], 6),
        )


@dataclass(frozen=True)
class HotspotExport:
    filters: DashboardFilter
    resolution: int
    cells: list[HotspotCell]
    categories: dict[int, CategoryInfo]
    generated_at: dt.datetime


def _hotspot_class(hot: bool | None) -> str:
    return {True: "hot", False: "cold", None: "none"}[hot]


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def prepare_hotspots(session: Session, filters: DashboardFilter, resolution: int, *, now: dt.datetime) -> HotspotExport:
    """The dashboard's hotspot layer for ``filters`` at ``resolution`` (``analysis.map_cells``,
    the cells and wards behind ``analysis.hotspot_layer``): one ``HotspotCell`` per cell of the
    study area, zeros included, in H3 index order. A fixed number of queries.

    Raises ValueError for a resolution other than 8 or 9."""
    if resolution not in RESOLUTIONS:
        raise ValueError(f"resolution must be one of {RESOLUTIONS}, not {resolution!r}")
    layer = map_cells(session, filters, resolution)
    names = dict(session.execute(sa.select(Ward.code, Ward.name)).tuples().all())
    cells = []
    for cell, found in layer.items():
        result = found.result
        cells.append(
            HotspotCell(
                h3_index=h3.int_to_str(cell),
                resolution=resolution,
                count=found.count,
                z=_finite(result.z),
                p=_finite(result.p),
                tested=result.tested,
                significant=result.significant,
                hotspot=_hotspot_class(result.hot),
                confidence=result.confidence,
                label=hotspot_label(found),
                wards=found.wards,
                ward_names=tuple(names.get(code, code) for code in found.wards),
                centre=hexes.centre(cell),
                cell=cell,
            )
        )
    cells.sort(key=lambda c: c.h3_index)
    return HotspotExport(filters, resolution, cells, _categories(session), now)


def hotspot_metadata(export: HotspotExport) -> dict[str, Any]:
    return {
        "dataset": "TellUs Coventry hotspot layer (Getis-Ord Gi* on H3 cells) selected on the ward dashboard",
        "generated_at": export.generated_at.isoformat(timespec="seconds"),
        "crs": CRS,
        "licence": LICENCE["name"],
        "licence_url": LICENCE["url"],
        "attribution": list(ATTRIBUTION),
        "terms": TERMS,
        "filters": {**describe_filters(export.filters, export.categories), "resolution": export.resolution},
        "method": (
            f"Getis-Ord Gi* over H3 cells with neighbours within {K_RING} ring; cells with fewer than "
            f"{MIN_COUNT} reports (or neighbourhoods expecting fewer) are not tested; hot and cold spots "
            "are significant under the Benjamini-Hochberg false discovery rate (docs/hotspots-statistics.md). "
            "Report counts show where people report, not how common a problem is."
        ),
        "coarsening": {
            "rule": (
                "Cells count each report at its public location: reports in sensitive categories at the "
                f"centre of their square of about {COARSE_SIZE_M} m, whatever your role. No report's "
                "text or exact point is included."
            ),
            "personal_data": "Reporters' names and email addresses are never exported.",
        },
        "properties": {name: text for name, text in HOTSPOT_COLUMNS if not name.startswith("centre_")},
    }


def _joined(values: Sequence[str]) -> str:
    return ";".join(values)


def hotspots_csv(export: HotspotExport) -> Iterator[str]:
    """The hotspot layer as CSV, one row per cell with its centre."""
    buffer = _Buffer()
    writer = csv.writer(buffer)
    writer.writerow(HOTSPOT_FIELDS)
    yield buffer.take()
    for start in range(0, len(export.cells), BATCH_ROWS):
        for cell in export.cells[start : start + BATCH_ROWS]:
            values = list(cell.values())
            values[10], values[11] = _joined(cell.wards), _joined(cell.ward_names)
            writer.writerow([_csv_text(v) for v in values])
        yield buffer.take()


def hotspots_geojson(export: HotspotExport) -> Iterator[str]:
    """The hotspot layer as a GeoJSON FeatureCollection of hexagons, feature by feature."""
    yield _feature_collection_head(hotspot_metadata(export))
    separator = ""
    for cell in export.cells:
        properties = dict(zip(HOTSPOT_FIELDS, cell.values(), strict=True))
        del properties["centre_lon"], properties["centre_lat"]
        properties["wards"], properties["ward_names"] = list(cell.wards), list(cell.ward_names)
        ring = [[round(lon, 7), round(lat, 7)] for lon, lat in hexes.boundary(cell.cell)]
        yield (
            separator
            + '{"type":"Feature","geometry":{"type":"Polygon","coordinates":'
            + _json([ring])
            + '},"properties":'
            + _json(properties)
            + "}"
        )
        separator = ",\n"
    yield "\n]}\n"


# --- CSV on the Web metadata (the CSV exports' licence and column descriptions) -----------------


def csvw_metadata(csv_url: str, metadata: dict[str, Any], columns: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """A CSV on the Web (W3C, 2015) metadata document for the CSV at ``csv_url``: its licence,
    attribution, filters and coarsening (``metadata``) and a description of each column.
    The CSV response points to it with ``Link: <...>; rel="describedby"``."""
    notes = {k: v for k, v in metadata.items() if k not in {"licence", "licence_url", "attribution", "properties"}}
    return {
        "@context": "http://www.w3.org/ns/csvw",
        "url": csv_url,
        "dc:title": metadata["dataset"],
        "dc:license": {"@id": metadata["licence_url"]},
        "dc:rights": metadata["licence"],
        "dc:source": list(metadata["attribution"]),
        "dc:created": metadata["generated_at"],
        "notes": [notes],
        "dialect": {"header": True, "encoding": "utf-8"},
        "tableSchema": {
            "columns": [{"name": name, "titles": name, "dc:description": text} for name, text in columns],
        },
    }
