"""The per-cell counts of published reports behind the map (table ``report_cells``).

Every change to a report's public location, category, status, ward or month goes through
``add`` and ``remove`` so the counts stay exact; ``rebuild`` recomputes them from the
reports and ``verify`` compares the two. ``add`` and ``remove`` also keep the ward
dashboard's counts (``app.hotspots.counts``, table ``hex_counts``), so every place that
keeps the map's counts keeps those too; they are rebuilt and checked apart
(``flask hotspots rebuild`` / ``verify``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.hotspots import counts
from app.reports.models import Report, ReportCell, ReportStatus
from geo.grid import LEVELS, cell_of, period_of

CellKey = tuple[int, int, int, int, int, str, str]


@dataclass
class CellSum:
    n: int = 0
    sum_lon: float = 0.0
    sum_lat: float = 0.0


def _keys(report: Report) -> Iterable[tuple[CellKey, float, float]]:
    period = period_of(report.created_at)
    for level in LEVELS:
        cx, cy = cell_of(report.public_lon, report.public_lat, level)
        status = ReportStatus(report.status).value
        yield (
            (level, cx, cy, period, report.category_id, status, report.ward_code),
            report.public_lon,
            report.public_lat,
        )


def accumulate(reports: Iterable[Report], sign: int = 1) -> dict[CellKey, CellSum]:
    """Sum ``reports`` into cells at every level (``sign`` -1 to subtract)."""
    cells: dict[CellKey, CellSum] = defaultdict(CellSum)
    for report in reports:
        for key, lon, lat in _keys(report):
            cell = cells[key]
            cell.n += sign
            cell.sum_lon += sign * lon
            cell.sum_lat += sign * lat
    return cells


def _upsert(session: Session, cells: dict[CellKey, CellSum]) -> None:
    if not cells:
        return
    rows = _rows(cells)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(ReportCell)
    stmt = stmt.on_conflict_do_update(
        index_elements=[c.name for c in sa.inspect(ReportCell).primary_key],
        set_={
            "n": ReportCell.n + stmt.excluded.n,
            "sum_lon": ReportCell.sum_lon + stmt.excluded.sum_lon,
            "sum_lat": ReportCell.sum_lat + stmt.excluded.sum_lat,
        },
    )
    for start in range(0, len(rows), 5000):
        session.execute(stmt, rows[start : start + 5000])
    taken = [row for row in rows if cast(int, row["n"]) < 0]
    if taken:
        # A cell whose reports have all moved away is deleted, so reads never see n = 0. Only
        # the cells just decremented can have reached 0: one primary-key lookup each, instead
        # of a scan of the whole table (3.4 million rows at 1M reports) on every write.
        table = cast(sa.Table, ReportCell.__table__)
        key = [c.name for c in table.primary_key.columns]
        gone = sa.delete(table).where(*(table.c[k] == sa.bindparam(f"k_{k}") for k in key), table.c.n <= 0)
        session.connection().execute(gone, [{f"k_{k}": row[k] for k in key} for row in taken])


def add(session: Session, reports: Iterable[Report]) -> None:
    """Count ``reports`` in the cells and in the ward dashboard's hex counts (call after they
    are flushed)."""
    reports = list(reports)
    _upsert(session, accumulate(reports))
    counts.add(session, reports)


def remove(session: Session, reports: Iterable[Report]) -> None:
    """Take ``reports`` out of the cells and the hex counts, before their location, category,
    status or ward changes."""
    reports = list(reports)
    _upsert(session, accumulate(reports, sign=-1))
    counts.remove(session, reports)


def _from_reports(session: Session, batch: int) -> dict[CellKey, CellSum]:
    cells: dict[CellKey, CellSum] = defaultdict(CellSum)
    columns = (
        Report.public_lon,
        Report.public_lat,
        Report.created_at,
        Report.category_id,
        Report.status,
        Report.ward_code,
    )
    published = sa.select(*columns).where(Report.published_at.is_not(None))
    result = session.execute(published.execution_options(yield_per=batch))
    for lon, lat, created_at, category_id, status, ward_code in result:
        period = period_of(created_at)
        for level in LEVELS:
            cx, cy = cell_of(lon, lat, level)
            cell = cells[(level, cx, cy, period, category_id, status.value, ward_code)]
            cell.n += 1
            cell.sum_lon += lon
            cell.sum_lat += lat
    return cells


def _rows(cells: dict[CellKey, CellSum]) -> list[dict[str, object]]:
    return [
        {
            "level": k[0],
            "cx": k[1],
            "cy": k[2],
            "period": k[3],
            "category_id": k[4],
            "status": k[5],
            "ward_code": k[6],
            "n": c.n,
            "sum_lon": c.sum_lon,
            "sum_lat": c.sum_lat,
        }
        for k, c in cells.items()
    ]


def rebuild(session: Session, *, batch: int = 20000) -> int:
    """Recompute every cell from the reports; returns how many cells there are."""
    session.execute(sa.delete(ReportCell))
    # In key order: report_cells is stored in key order (WITHOUT ROWID on SQLite, and the
    # primary key's index on PostgreSQL), so sorted inserts append instead of splitting pages.
    rows = _rows(dict(sorted(_from_reports(session, batch).items())))
    for start in range(0, len(rows), batch):
        session.execute(sa.insert(ReportCell), rows[start : start + batch])
    return len(rows)


def verify(session: Session, *, batch: int = 20000) -> list[str]:
    """Compare every stored cell with a fresh count from the reports.

    Returns a line per cell that disagrees (empty when all agree).
    """
    expected = _from_reports(session, batch)
    stored = {
        (r.level, r.cx, r.cy, r.period, r.category_id, r.status, r.ward_code): r
        for r in session.scalars(sa.select(ReportCell))
    }
    problems: list[str] = []
    for key in sorted(set(expected) | set(stored)):
        want = expected[key].n if key in expected else 0
        have = stored[key].n if key in stored else 0
        if want != have:
            problems.append(f"cell {key}: table has {have}, reports give {want}")
        elif want and abs(stored[key].sum_lon - expected[key].sum_lon) > 1e-6 * want:
            problems.append(f"cell {key}: centroid differs from the reports")
    return problems
