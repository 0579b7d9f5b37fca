"""What the ward dashboard, its alerts and its exports show about report counts: counts per H3
cell, Getis-Ord Gi* hot and cold spots, emerging problems and trends.

Everything here reads the compact counts (``hex_counts``, kept on every write by
``app.hotspots.counts``) and small reference tables (wards, postcodes), never the reports, so a
page costs the same few queries whatever the number of reports. The statistics are plain
functions in ``geo`` (``geo.hotspot_stats``, ``geo.trends``); docs/hotspots-statistics.md explains
them and docs/hotspots.md how to read them.

Two choices matter when reading the results:

- **The study area** of a hotspot analysis is every cell covering the wards in view
  (``geo.hexes.cells_covering``: cells whose centre lies in a ward), zeros included, plus any
  cell that holds reports counted in one of those wards (an edge cell whose centre is just
  outside). The zeros are what a hotspot stands out from.
- **Emerging problems and trends count every report made, whatever its status now.** A
  report's status changes as it is dealt with, so counting only open reports would make every
  recent week look high. They also ignore the dashboard's period: they always compare the last
  4 weeks with the 12 weeks before.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.geography.models import Postcode, Ward
from app.hotspots.filters import DashboardFilter, scope_clause
from app.hotspots.models import CITY_RESOLUTION, WARD_RESOLUTION, HexCount
from app.permissions import WardScope
from app.reports.models import Category
from geo import hexes, hotspot_stats, trends
from geo.hotspot_stats import CellResult

# Emerging problems: the last CURRENT_WEEKS weeks against the BASELINE_WEEKS weeks before them
# (scaled to the same length), and a Mann-Kendall trend over the last TREND_WEEKS weekly counts.
CURRENT_WEEKS = 4
BASELINE_WEEKS = 12
TREND_WEEKS = 12
# Trend charts: each period's usual range comes from the BAND_PERIODS periods before it.
BAND_PERIODS = 12
TREND_MONTHS = 12
MIN_TREND_WEEKS = 12


def _cell_column(resolution: int) -> sa.orm.InstrumentedAttribute[int]:
    """The ``hex_counts`` column holding cells at ``resolution``. Raises ValueError for a
    resolution the table does not keep (only 8 and 9)."""
    if resolution == CITY_RESOLUTION:
        return HexCount.cell8
    if resolution == WARD_RESOLUTION:
        return HexCount.cell9
    raise ValueError(f"hex counts are kept at resolutions {CITY_RESOLUTION} and {WARD_RESOLUTION}, not {resolution}")


def _in_scope(filters: DashboardFilter) -> sa.ColumnElement[bool]:
    """``hex_counts`` rows in the wards and categories the filter (and the viewer) allows."""
    return scope_clause(filters, HexCount.__table__.c.ward_code, HexCount.__table__.c.category_id)


def _period_clauses(filters: DashboardFilter) -> list[sa.ColumnElement[bool]]:
    """``hex_counts`` rows in the filter's days, scope, categories and statuses."""
    clauses = [
        HexCount.day >= filters.start,
        HexCount.day <= filters.end,
        _in_scope(filters),
    ]
    if filters.statuses:
        clauses.append(HexCount.status.in_([s.value for s in filters.statuses]))
    return clauses


def _scope_filter(
    wards: Iterable[str], categories: Iterable[int] | None, scope: WardScope | None, day: dt.date
) -> DashboardFilter:
    """A ``DashboardFilter`` standing for explicit wards, categories and scope (the alerts and
    ``emerging`` take those rather than a filter); only its scope and categories are used."""
    wards = sorted(set(wards))
    in_view: WardScope = {w: (scope[w] if scope is not None else None) for w in wards if scope is None or w in scope}
    return DashboardFilter(
        wards=tuple(in_view), start=day, end=day, scope=in_view, categories=tuple(sorted(set(categories or ())))
    )


# --- Counts per cell and the hotspot layer ------------------------------------------------------


def _cells_by_ward(
    session: Session, clauses: list[sa.ColumnElement[bool]], resolution: int
) -> dict[int, dict[str, int]]:
    """{cell: {ward code: reports}} for the ``hex_counts`` rows matching ``clauses``: one query."""
    column = _cell_column(resolution)
    rows = session.execute(
        sa.select(column, HexCount.ward_code, sa.func.sum(HexCount.n))
        .where(*clauses)
        .group_by(column, HexCount.ward_code)
    )
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for cell, ward, n in rows:
        if n:
            found[int(cell)][ward] = int(n)
    return found


def cell_counts(session: Session, filters: DashboardFilter, resolution: int) -> dict[int, int]:
    """{H3 cell at ``resolution``: reports} in the filter's period, wards, categories (within
    the viewer's scope) and statuses; cells without reports are left out. One query.

    Raises ValueError for a resolution other than ``CITY_RESOLUTION`` or ``WARD_RESOLUTION``."""
    return {
        cell: sum(wards.values())
        for cell, wards in _cells_by_ward(session, _period_clauses(filters), resolution).items()
    }


@functools.lru_cache(maxsize=512)
def _covering(geojson: str, resolution: int) -> frozenset[int]:
    # Ward outlines change only with a new boundary vintage; keyed on the outline itself.
    return frozenset(hexes.cells_covering(json.loads(geojson), resolution))


def study_area(session: Session, wards: Iterable[str], resolution: int) -> dict[int, tuple[str, ...]]:
    """{cell: the wards it covers} for the cells at ``resolution`` whose centres lie in
    ``wards`` (``geo.hexes.cells_covering``). One query (the ward outlines)."""
    codes = sorted(set(wards))
    if not codes:
        return {}
    area: dict[int, list[str]] = defaultdict(list)
    rows = session.execute(sa.select(Ward.code, sa.func.ST_AsGeoJSON(Ward.geom)).where(Ward.code.in_(codes)))
    for code, geojson in rows:
        for cell in _covering(geojson, resolution):
            area[cell].append(code)
    return {cell: tuple(sorted(codes)) for cell, codes in area.items()}


@dataclass(frozen=True)
class MapCell:
    """One cell of the dashboard's map: its hotspot result and the wards it is in (those it
    covers, or where its reports were made when its centre lies outside the wards in view)."""

    result: CellResult
    wards: tuple[str, ...]

    @property
    def cell(self) -> int:
        return self.result.cell

    @property
    def count(self) -> int:
        return int(self.result.count)


def _layer(
    session: Session, wards: Iterable[str], by_ward: Mapping[int, Mapping[str, int]], resolution: int
) -> dict[int, MapCell]:
    area = study_area(session, wards, resolution)
    counts: dict[int, float] = dict.fromkeys(area, 0.0)
    for cell, per_ward in by_ward.items():
        counts[cell] = float(sum(per_ward.values()))
    results = hotspot_stats.hotspots(counts)
    cells: dict[int, MapCell] = {}
    for cell, result in results.items():
        # A cell outside the wards' outlines belongs to the ward where most of its reports were made.
        wards_of = area.get(cell) or (max(by_ward[cell].items(), key=lambda kv: (kv[1], kv[0]))[0],)
        cells[cell] = MapCell(result, wards_of)
    return cells


def map_cells(session: Session, filters: DashboardFilter, resolution: int) -> dict[int, MapCell]:
    """Every cell of the study area (see the module docstring) with its count in the filter's
    period, categories and statuses, its Gi* result (``geo.hotspot_stats.hotspots``) and its
    wards. Two queries. Raises ValueError for a resolution the counts are not kept at."""
    by_ward = _cells_by_ward(session, _period_clauses(filters), resolution)
    return _layer(session, filters.wards, by_ward, resolution)


def map_cells_and_counts(
    session: Session, filters: DashboardFilter, resolution: int
) -> tuple[dict[int, MapCell], dict[tuple[str, int], int]]:
    """``map_cells``, and the same period's reports per (ward, category) for the top categories
    and the ward comparison, from one pass over the period's counts (two queries in all)."""
    column = _cell_column(resolution)
    rows = session.execute(
        sa.select(column, HexCount.ward_code, HexCount.category_id, sa.func.sum(HexCount.n))
        .where(*_period_clauses(filters))
        .group_by(column, HexCount.ward_code, HexCount.category_id)
    )
    by_ward: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_category: dict[tuple[str, int], int] = defaultdict(int)
    for cell, ward, category_id, n in rows:
        if n:
            by_ward[int(cell)][ward] += int(n)
            by_category[(ward, int(category_id))] += int(n)
    return _layer(session, filters.wards, by_ward, resolution), dict(by_category)


def hotspot_layer(session: Session, filters: DashboardFilter, resolution: int) -> dict[int, CellResult]:
    """{cell: ``CellResult``} for the Gi* hot and cold spots of the filter's counts at
    ``resolution``. The study area is the cells covering the wards in view, zeros included,
    plus any cell with reports (module docstring); significance is Benjamini-Hochberg across
    the tested cells (``geo.hotspot_stats``). Two queries. Raises ValueError for a resolution
    the counts are not kept at."""
    return {cell: found.result for cell, found in map_cells(session, filters, resolution).items()}


# {reach: ((database, postcodes, last postcode), grid)}: the postcodes change only when
# ``flask geo load`` runs, so each process keeps its grid while that fingerprint holds.
_POSTCODE_GRIDS: dict[
    float, tuple[tuple[str, int, str | None], dict[tuple[int, int], list[tuple[str, float, float]]]]
] = {}


def _postcode_grid(session: Session, reach: float) -> dict[tuple[int, int], list[tuple[str, float, float]]]:
    """Every postcode, bucketed on a grid of ``reach`` degrees. One small query (the
    fingerprint) when the process already has it, two otherwise."""
    count, last = session.execute(sa.select(sa.func.count(), sa.func.max(Postcode.postcode))).one()
    fingerprint = (str(session.get_bind().engine.url), int(count), last)
    cached = _POSTCODE_GRIDS.get(reach)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    grid: dict[tuple[int, int], list[tuple[str, float, float]]] = defaultdict(list)
    for postcode, lon, lat in session.execute(sa.select(Postcode.postcode, Postcode.lon, Postcode.lat)):
        grid[(math.floor(lon / reach), math.floor(lat / reach))].append((postcode, lon, lat))
    _POSTCODE_GRIDS[reach] = (fingerprint, dict(grid))
    return grid


def nearest_postcodes(session: Session, cells: Iterable[int], *, reach: float = 0.01) -> dict[int, str]:
    """{cell: the postcode whose centroid is nearest the cell's centre}, looking about ``reach``
    degrees (about 1 km north-south) around each. Cells with no postcode that near are left
    out. No query for no cells; otherwise one small query while the process's copy of the
    postcodes is current (``_postcode_grid``)."""
    centres = {cell: hexes.centre(cell) for cell in cells}
    if not centres:
        return {}
    grid = _postcode_grid(session, reach)
    found: dict[int, str] = {}
    for cell, (lon, lat) in centres.items():
        gx, gy = math.floor(lon / reach), math.floor(lat / reach)
        best: tuple[float, str] | None = None
        scale = math.cos(math.radians(lat))  # a degree of longitude is shorter than one of latitude
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for postcode, plon, plat in grid.get((gx + dx, gy + dy), ()):
                    distance = ((plon - lon) * scale) ** 2 + (plat - lat) ** 2
                    if best is None or (distance, postcode) < best:
                        best = (distance, postcode)
        if best is not None:
            found[cell] = best[1]
    return found


# --- Emerging problems --------------------------------------------------------------------------


@dataclass
class Emerging:
    """A ward × category (``cell`` None), or a hot cell (``category_id`` None for every category
    asked about, or the one category when only one was), whose last 4 weeks are well above or
    below the 12 weeks before: |Poisson Z| ≥ ``geo.trends.EMERGING_Z``.

    ``current``: reports in the last 4 weeks; ``expected``: the 12 weeks before scaled to 4;
    ``z``: the Poisson Z; ``trend``: Mann-Kendall over the last 12 weekly counts ("rising",
    "falling" or ""); ``weeks_above``: how many of the latest weeks in a row were above the
    weekly expected count; ``summary``: all that in one plain-English sentence. ``weekly``:
    the last 12 weekly counts, oldest first; ``resolution``: the cell's, for a cell."""

    ward_code: str
    category_id: int | None
    cell: int | None
    current: int
    expected: float
    z: float
    trend: str
    weeks_above: int
    summary: str
    weekly: tuple[int, ...] = ()
    resolution: int | None = None
    postcode: str | None = None

    @property
    def rising(self) -> bool:
        return self.z > 0


def _weeks_case(day: sa.ColumnElement[dt.date], today: dt.date, weeks: int) -> sa.ColumnElement[int]:
    """The week a ``day`` falls in, counting back from ``today``: 0 for the 7 days ending
    today, 1 for the 7 before, ... (portable SQL: SQLite and PostgreSQL subtract dates
    differently)."""
    return sa.case(
        *[(day >= today - dt.timedelta(days=7 * i + 6), i) for i in range(weeks - 1)],
        else_=weeks - 1,
    )


def _expected_text(expected: float) -> str:
    if expected < 0.5:
        return "fewer than 1"
    return f"about {round(expected):,}"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def describe(subject: str, *, current: int, expected: float, trend: str, weeks_above: int, weeks_below: int) -> str:
    """The plain-English sentence for an emerging (or falling) problem, e.g. "Fly-tipping in
    Foleshill: 41 reports in the last 4 weeks against about 18 expected; rising for 8 weeks"."""
    reports = f"{subject}: {_plural(current, 'report')} in the last {CURRENT_WEEKS} weeks"
    if expected == 0:
        text = f"{reports}, and none in the {BASELINE_WEEKS} weeks before"
    else:
        text = f"{reports} against {_expected_text(expected)} expected"
    if trend == "rising":
        text += (
            f"; rising for {weeks_above} weeks" if weeks_above >= 2 else f"; rising over the last {TREND_WEEKS} weeks"
        )
    elif trend == "falling":
        text += (
            f"; falling for {weeks_below} weeks" if weeks_below >= 2 else f"; falling over the last {TREND_WEEKS} weeks"
        )
    elif current > expected and weeks_above >= 2:
        text += f"; above the usual level for {weeks_above} weeks"
    elif current < expected and weeks_below >= 2:
        text += f"; below the usual level for {weeks_below} weeks"
    return text


def _test(series_newest_first: list[int]) -> tuple[int, float, float, trends.MannKendall, int, int]:
    """(current, expected, z, Mann-Kendall, weeks above, weeks below) of 16 weekly counts."""
    current = sum(series_newest_first[:CURRENT_WEEKS])
    baseline = sum(series_newest_first[CURRENT_WEEKS : CURRENT_WEEKS + BASELINE_WEEKS])
    z, expected = trends.poisson_z(current, baseline, current_length=CURRENT_WEEKS, baseline_length=BASELINE_WEEKS)
    last = [float(n) for n in reversed(series_newest_first[:TREND_WEEKS])]
    weekly_expected = expected / CURRENT_WEEKS
    above = trends.periods_above(last, weekly_expected)
    below = trends.periods_above([-n for n in last], -weekly_expected)
    return current, expected, z, trends.mann_kendall(last), above, below


def _flagged(current: int, expected: float, z: float) -> bool:
    """|Z| ≥ EMERGING_Z, with at least MIN_COUNT reports on the high side: 3 reports where there
    were none gives Z = 3.5 (geo.trends.poisson_z), and none where about 2.3 were expected
    gives Z = -3, neither worth anyone's attention."""
    return abs(z) >= trends.EMERGING_Z and max(current, expected) >= hotspot_stats.MIN_COUNT


def emerging(
    session: Session,
    *,
    wards: Iterable[str],
    categories: Iterable[int] | None,
    today: dt.date,
    scope: WardScope | None = None,
    resolution: int | None = None,
) -> list[Emerging]:
    """Emerging (and sharply falling) problems in ``wards``, for ``categories`` (None: all),
    as of ``today`` (its UK date; today's reports count): every ward × category, and every
    hot cell, whose last 4 weeks differ from the 12 weeks before by |Poisson Z| ≥
    ``geo.trends.EMERGING_Z`` (``geo.trends.poisson_z``; the higher of the current and
    expected counts must also be at least ``geo.hotspot_stats.MIN_COUNT``), with a
    Mann-Kendall trend over the last 12 weeks and a plain-English summary. Rises come first
    (largest Z first), then falls.

    Hot cells are the Gi* hot spots of the last 4 weeks' reports, every category asked about
    together, at ``resolution`` (default: the ward resolution for one ward, the city's for
    more), in the study area of ``wards``. ``scope`` ({ward: allowed categories or None}, as
    ``permissions.dashboard_scope`` gives) limits what is counted to what a viewer may see;
    wards outside it are left out.

    Counts every report made, whatever its status now (module docstring). A constant number of
    queries (at most six) whatever the data. Raises ValueError for a resolution the counts are
    not kept at."""
    filters = _scope_filter(wards, categories, scope, today)
    if not filters.wards:
        return []
    if resolution is None:
        resolution = WARD_RESOLUTION if len(filters.wards) == 1 else CITY_RESOLUTION
    weeks = CURRENT_WEEKS + BASELINE_WEEKS
    first = today - dt.timedelta(days=7 * weeks - 1)
    in_scope = _in_scope(filters)
    window = [HexCount.day >= first, HexCount.day <= today, in_scope]
    week = _weeks_case(HexCount.__table__.c.day, today, weeks)

    series: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0] * weeks)
    rows = session.execute(
        sa.select(HexCount.ward_code, HexCount.category_id, week, sa.func.sum(HexCount.n))
        .where(*window)
        .group_by(HexCount.ward_code, HexCount.category_id, week)
    )
    for ward, category_id, index, n in rows:
        series[(ward, int(category_id))][int(index)] += int(n)

    ward_names = dict(
        session.execute(sa.select(Ward.code, Ward.name).where(Ward.code.in_(filters.wards))).tuples().all()
    )
    category_names = dict(session.execute(sa.select(Category.id, Category.name)).tuples().all())
    found: list[Emerging] = []
    for (ward, category_id), counts in series.items():
        current, expected, z, mk, above, below = _test(counts)
        if not _flagged(current, expected, z):
            continue
        subject = f"{category_names.get(category_id, 'Reports')} in {ward_names.get(ward, ward)}"
        found.append(
            Emerging(
                ward_code=ward,
                category_id=category_id,
                cell=None,
                current=current,
                expected=expected,
                z=z,
                trend=mk.trend,
                weeks_above=above,
                summary=describe(
                    subject, current=current, expected=expected, trend=mk.trend, weeks_above=above, weeks_below=below
                ),
                weekly=tuple(reversed(counts[:TREND_WEEKS])),
            )
        )

    # Hot cells now (the last 4 weeks), then each one's own 16 weeks.
    cell_column = _cell_column(resolution)
    recent = [HexCount.day >= today - dt.timedelta(days=7 * CURRENT_WEEKS - 1), HexCount.day <= today, in_scope]
    layer = _layer(session, filters.wards, _cells_by_ward(session, recent, resolution), resolution)
    hot = {cell: found_cell for cell, found_cell in layer.items() if found_cell.result.hot is True}
    if hot:
        cell_series: dict[int, list[int]] = defaultdict(lambda: [0] * weeks)
        rows = session.execute(
            sa.select(cell_column, week, sa.func.sum(HexCount.n))
            .where(*window, cell_column.in_(sorted(hot)))
            .group_by(cell_column, week)
        )
        for cell, index, n in rows:
            cell_series[int(cell)][int(index)] += int(n)
        postcodes = nearest_postcodes(session, hot)
        only = filters.categories[0] if len(filters.categories) == 1 else None
        what = category_names.get(only, "Reports") if only is not None else "Reports in every category"
        for cell, counts in cell_series.items():
            current, expected, z, mk, above, below = _test(counts)
            if not _flagged(current, expected, z):
                continue
            ward = hot[cell].wards[0]
            place = ward_names.get(ward, ward)
            near = f" near {postcodes[cell]}" if cell in postcodes else ""
            found.append(
                Emerging(
                    ward_code=ward,
                    category_id=only,
                    cell=cell,
                    current=current,
                    expected=expected,
                    z=z,
                    trend=mk.trend,
                    weeks_above=above,
                    summary=describe(
                        f"{what} in a hot spot{near} in {place}",
                        current=current,
                        expected=expected,
                        trend=mk.trend,
                        weeks_above=above,
                        weeks_below=below,
                    ),
                    weekly=tuple(reversed(counts[:TREND_WEEKS])),
                    resolution=resolution,
                    postcode=postcodes.get(cell),
                )
            )
    found.sort(key=lambda e: (e.z < 0, -abs(e.z), e.cell is not None, e.ward_code, e.category_id or 0, e.cell or 0))
    return found


# --- Trends -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendPoint:
    """One week or month of a trend: its days ``start`` to ``end`` (``end`` is today for the
    month so far), its reports, and the usual range from the ``BAND_PERIODS`` periods before
    it: ``expected`` is their mean (scaled to the days so far for the current month) and the
    band ``low`` to ``high`` is ``expected`` ± 2√``expected``, where a Poisson count falls
    about 95% of the time. All three are None where the counts do not go back far enough."""

    start: dt.date
    end: dt.date
    count: int
    expected: float | None = None
    low: float | None = None
    high: float | None = None
    partial: bool = False

    @property
    def above(self) -> bool:
        return self.high is not None and self.count > self.high

    @property
    def below(self) -> bool:
        return self.low is not None and self.count < self.low


@dataclass
class Trend:
    """Weekly and monthly report counts of one category (``category_id``; None: every category
    in view together), oldest first, each with its baseline band."""

    category_id: int | None
    weekly: list[TrendPoint] = field(default_factory=list)
    monthly: list[TrendPoint] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(p.count for p in self.weekly)


def band(expected: float) -> tuple[float, float]:
    """The usual range of a Poisson count with mean ``expected``: ± 2√expected, not below 0."""
    spread = 2 * math.sqrt(expected)
    return max(0.0, expected - spread), expected + spread


def _month_start(day: dt.date, back: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def _next_month(day: dt.date) -> dt.date:
    return _month_start(day, -1)


def _points(
    daily: Mapping[dt.date, int],
    periods: list[tuple[dt.date, dt.date]],
    shown: int,
    first_day: dt.date | None,
    today: dt.date,
) -> list[TrendPoint]:
    """The last ``shown`` of ``periods`` (oldest first, consecutive) as points, each with the
    band from the ``BAND_PERIODS`` periods before it (when the counts go back that far)."""
    starts = [start for start, _ in periods]
    totals = [0] * len(periods)
    for day, n in daily.items():
        i = bisect.bisect_right(starts, day) - 1
        if i >= 0 and day <= periods[i][1]:
            totals[i] += n
    points: list[TrendPoint] = []
    for i in range(len(periods) - shown, len(periods)):
        start, end = periods[i]
        full_end = _next_month(start) - dt.timedelta(days=1) if end == today and start.day == 1 else end
        partial = end < full_end
        expected = low = high = None
        if i >= BAND_PERIODS and first_day is not None and periods[i - BAND_PERIODS][0] >= first_day:
            expected = sum(totals[i - BAND_PERIODS : i]) / BAND_PERIODS
            if partial:  # the month so far: its share of a whole month
                expected *= ((end - start).days + 1) / ((full_end - start).days + 1)
            low, high = band(expected)
        points.append(TrendPoint(start, end, totals[i], expected, low, high, partial))
    return points


def trend_weeks(filters: DashboardFilter) -> int:
    """Weeks the weekly chart shows: the filter's period, and at least ``MIN_TREND_WEEKS``."""
    return max(MIN_TREND_WEEKS, math.ceil(((filters.end - filters.start).days + 1) / 7))


def category_trends(session: Session, filters: DashboardFilter) -> list[Trend]:
    """Weekly (the weeks ending on ``filters.end``, ``trend_weeks`` of them) and monthly (the
    last ``TREND_MONTHS`` calendar months, the current one so far) counts per category in
    view, and for all of them together (first), each with its baseline band (``TrendPoint``).
    Categories with no reports in the weeks shown are left out. Counts every report whatever
    its status (module docstring). Two queries: the counts per category and day, and the
    first day counted at all (bands need their whole baseline)."""
    today = filters.end
    weeks = trend_weeks(filters)
    week_periods = [
        (today - dt.timedelta(days=7 * i + 6), today - dt.timedelta(days=7 * i))
        for i in reversed(range(weeks + BAND_PERIODS))
    ]
    month_periods = []
    for back in reversed(range(TREND_MONTHS + BAND_PERIODS)):
        start = _month_start(today, back)
        month_periods.append((start, min(today, _next_month(start) - dt.timedelta(days=1))))
    first = min(week_periods[0][0], month_periods[0][0])
    by_category: dict[int, dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
    everything: dict[dt.date, int] = defaultdict(int)
    rows = session.execute(
        sa.select(HexCount.category_id, HexCount.day, sa.func.sum(HexCount.n))
        .where(
            HexCount.day >= first,
            HexCount.day <= today,
            _in_scope(filters),
        )
        .group_by(HexCount.category_id, HexCount.day)
    )
    for category_id, day, n in rows:
        day = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
        by_category[int(category_id)][day] += int(n)
        everything[day] += int(n)
    first_day = session.scalar(sa.select(sa.func.min(HexCount.day)))
    if first_day is not None and not isinstance(first_day, dt.date):
        first_day = dt.date.fromisoformat(str(first_day))

    def trend(category_id: int | None, daily: Mapping[dt.date, int]) -> Trend:
        return Trend(
            category_id,
            weekly=_points(daily, week_periods, weeks, first_day, today),
            monthly=_points(daily, month_periods, TREND_MONTHS, first_day, today),
        )

    found = [trend(None, everything)]
    for category_id, daily in by_category.items():
        made = trend(category_id, daily)
        if made.total:
            found.append(made)
    found[1:] = sorted(found[1:], key=lambda t: (-t.total, t.category_id or 0))
    return found
