"""The ward dashboard's counts (table ``hex_counts``): published reports per UK local day ×
ward × category × status × H3 resolution-9 cell, with the cell's resolution-8 parent.

Every change to a published report's public location, category, status or publication goes
through ``app.reports.aggregates.add``/``remove``, which call ``add``/``remove`` here, so the
counts stay exact; a move is a ``remove`` before and an ``add`` after. ``add`` also stores the
report's cells in ``Report.h3_r9``/``h3_r8``. ``rebuild`` recomputes the table (and the
reports' cells) from the reports, ``verify`` compares the two. docs/hotspots-data.md describes
the table and the commands.

Cells come from the PUBLIC location, so a sensitive report counts where the public map shows
it (about 500 m from where it was made), and the resolution-8 cell is the resolution-9 cell's
H3 parent, so summing ``hex_counts`` by ``cell8`` equals grouping the reports by ``h3_r8``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from app.db import UTCDateTime
from app.hotspots.models import CITY_RESOLUTION, WARD_RESOLUTION, HexCount
from app.reports.models import Report, ReportStatus
from geo import hexes

UK = ZoneInfo("Europe/London")

# (day, ward_code, category_id, status, cell9): the primary key of hex_counts.
Key = tuple[dt.date, str, int, str, int]

_KEY_COLUMNS = ("day", "ward_code", "category_id", "status", "cell9")


def day_of(created_at: dt.datetime) -> dt.date:
    """The UK local date (Europe/London, GMT or BST) of ``created_at``: the day a report
    counts on. Raises ValueError for a naive datetime."""
    if created_at.tzinfo is None:
        raise ValueError("naive datetime given; reports' times are timezone-aware UTC")
    return created_at.astimezone(UK).date()


# Resolution-9 cell → its resolution-8 parent. The city has about 1,100 cells with reports, so
# remembering them saves the rebuild and verify a million parent look-ups.
_PARENTS: dict[int, int] = {}


def cells_of(lon: float, lat: float) -> tuple[int, int]:
    """The resolution-9 H3 cell of a point and that cell's resolution-8 parent, as ints.
    Raises InvalidCoordinates (a ValueError) for a point that is not a longitude and latitude."""
    cell9 = hexes.cell_of(lon, lat, WARD_RESOLUTION)
    cell8 = _PARENTS.get(cell9)
    if cell8 is None:
        if len(_PARENTS) > 100_000:  # bounded, whatever points come in
            _PARENTS.clear()
        cell8 = _PARENTS[cell9] = hexes.parent(cell9, CITY_RESOLUTION)
    return cell9, cell8


def _key(report: Report, cell9: int) -> Key:
    return (
        day_of(report.created_at),
        report.ward_code,
        report.category_id,
        ReportStatus(report.status).value,
        cell9,
    )


def _accumulate(reports: Iterable[Report], sign: int) -> dict[Key, list[int]]:
    """{key: [cell8, n]} for the published ``reports`` (``sign`` -1 to subtract)."""
    sums: dict[Key, list[int]] = {}
    for report in reports:
        if report.published_at is None:
            continue  # only published reports are counted, as on the map
        cell9, cell8 = cells_of(report.public_lon, report.public_lat)
        if sign > 0:
            report.h3_r9, report.h3_r8 = cell9, cell8
        key = _key(report, cell9)
        if key in sums:
            sums[key][1] += sign
        else:
            sums[key] = [cell8, sign]
    return sums


def _rows(sums: dict[Key, list[int]]) -> list[dict[str, Any]]:
    return [dict(zip(_KEY_COLUMNS, key, strict=True), cell8=cell8, n=n) for key, (cell8, n) in sums.items() if n]


def _upsert(session: Session, sums: dict[Key, list[int]]) -> None:
    rows = _rows(sums)
    if not rows:
        return
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(HexCount)
    stmt = stmt.on_conflict_do_update(index_elements=list(_KEY_COLUMNS), set_={"n": HexCount.n + stmt.excluded.n})
    for start in range(0, len(rows), 5000):
        session.execute(stmt, rows[start : start + 5000])
    if any(row["n"] < 0 for row in rows):
        # A key whose reports have all gone elsewhere is deleted, so readers never see n = 0.
        # Only the keys just decremented: one primary-key lookup each, never a table scan.
        table = cast(sa.Table, HexCount.__table__)
        gone = sa.delete(table).where(
            *(table.c[name] == sa.bindparam(f"k_{name}") for name in _KEY_COLUMNS),
            table.c.n <= 0,
        )
        keys = [{f"k_{name}": row[name] for name in _KEY_COLUMNS} for row in rows if row["n"] < 0]
        session.connection().execute(gone, keys)


def add(session: Session, reports: Iterable[Report]) -> None:
    """Count the published ``reports`` (after they are flushed, or in their new place, category
    or status) and set their ``h3_r9``/``h3_r8`` from their public location. Unpublished
    reports are skipped. Raises ValueError for a report with a naive ``created_at``."""
    _upsert(session, _accumulate(reports, 1))


def remove(session: Session, reports: Iterable[Report]) -> None:
    """Take the published ``reports`` out of the counts, before their public location,
    category, status or ward changes (they are counted where they are now). Raises ValueError
    for a report with a naive ``created_at``."""
    _upsert(session, _accumulate(reports, -1))


# --- Rebuilding and checking ---------------------------------------------------------------------


def _published_pages(session: Session, columns: tuple[Any, ...], batch: int) -> Iterator[Sequence[sa.Row[Any]]]:
    """Published reports in pages of ``batch`` by id (keyset), so each page is read in full
    before anything is written: writing to ``reports`` under an open cursor is not safe on
    SQLite."""
    last = 0
    while True:
        page = (
            session.connection()
            .execute(
                sa.select(Report.id, *columns)
                .where(Report.published_at.is_not(None), Report.id > last)
                .order_by(Report.id)
                .limit(batch)
            )
            .all()
        )
        if not page:
            return
        yield page
        last = page[-1].id


def refresh_report_cells(session: Session, *, batch: int = 20000) -> int:
    """Set ``h3_r9``/``h3_r8`` of every published report whose stored cells are missing or do
    not match its public location; returns how many changed. Reports already loaded in the
    session have those two attributes expired so they read the new values."""
    changed = 0
    table = cast(sa.Table, Report.__table__)
    stmt = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("rid"))
        .values(h3_r9=sa.bindparam("r9"), h3_r8=sa.bindparam("r8"))
    )
    for page in _published_pages(session, (Report.public_lon, Report.public_lat, Report.h3_r9, Report.h3_r8), batch):
        updates = []
        for rid, lon, lat, r9, r8 in page:
            cell9, cell8 = cells_of(lon, lat)
            if (r9, r8) != (cell9, cell8):
                updates.append({"rid": rid, "r9": cell9, "r8": cell8})
        if not updates:
            continue
        session.connection().execute(stmt, updates)
        changed += len(updates)
        for row in updates:
            loaded = session.identity_map.get(identity_key(Report, row["rid"]))
            if loaded is not None:
                session.expire(loaded, ["h3_r9", "h3_r8"])
    return changed


def _bst_periods(start: dt.date, end: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
    """The UTC instants [from, to) in which UK clocks are an hour ahead of UTC (BST), for the
    years from ``start`` to ``end``, found from the time zone database (not hard-coded rules)."""
    periods: list[tuple[dt.datetime, dt.datetime]] = []
    moment = dt.datetime(start.year - 1, 12, 31, tzinfo=dt.UTC)
    stop = dt.datetime(end.year + 1, 1, 2, tzinfo=dt.UTC)
    opened: dt.datetime | None = None
    ahead = moment.astimezone(UK).utcoffset() != dt.timedelta(0)
    while moment < stop:
        following = moment + dt.timedelta(days=1)
        if (following.astimezone(UK).utcoffset() != dt.timedelta(0)) != ahead:
            hour = moment
            while (hour.astimezone(UK).utcoffset() != dt.timedelta(0)) == ahead:
                hour += dt.timedelta(hours=1)
            ahead = not ahead
            if ahead:
                opened = hour
            else:
                periods.append((opened or moment, hour))
                opened = None
        moment = following
    if opened is not None:
        periods.append((opened, stop))
    return periods


def _day_sql(session: Session) -> sa.ColumnElement[Any]:
    """SQL for ``day_of(reports.created_at)``."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.cast(sa.func.timezone("Europe/London", Report.created_at), sa.Date)
    # SQLite has no time zones: created_at is naive UTC text, one hour ahead during BST.
    first, last = session.execute(
        sa.select(sa.func.min(Report.created_at), sa.func.max(Report.created_at)).where(
            Report.published_at.is_not(None)
        )
    ).one()
    if first is None:
        return sa.func.date(Report.created_at)
    summer = sa.or_(
        *(
            sa.and_(Report.created_at >= sa.literal(a, UTCDateTime), Report.created_at < sa.literal(b, UTCDateTime))
            for a, b in _bst_periods(first.date(), last.date())
        )
    )
    return sa.case((summer, sa.func.date(Report.created_at, "+1 hours")), else_=sa.func.date(Report.created_at))


@dataclass(frozen=True)
class Rebuilt:
    rows: int  # hex_counts rows
    reports: int  # published reports counted
    cells_set: int  # reports whose h3_r9/h3_r8 were missing or stale, now set


def rebuild(session: Session, *, batch: int = 20000) -> int:
    """Recompute the whole table from the published reports (first bringing every report's
    ``h3_r9``/``h3_r8`` up to date with its public location); returns how many rows it has.

    The reports' cells are checked in pages of ``batch`` (keyset by id); the counts are one
    ``INSERT … SELECT … GROUP BY`` in the database, in primary-key order.
    """
    return rebuild_all(session, batch=batch).rows


def rebuild_all(session: Session, *, batch: int = 20000) -> Rebuilt:
    """``rebuild``, also saying how many reports were counted and how many had their cells set."""
    session.flush()
    cells_set = refresh_report_cells(session, batch=batch)
    session.execute(sa.delete(HexCount))
    day = _day_sql(session).label("day")
    grouped = (
        sa.select(
            day,
            Report.ward_code,
            Report.category_id,
            Report.status,
            Report.h3_r9,
            Report.h3_r8,
            sa.func.count().label("n"),
        )
        .where(Report.published_at.is_not(None))
        .group_by(day, Report.ward_code, Report.category_id, Report.status, Report.h3_r9, Report.h3_r8)
        .order_by(day, Report.ward_code, Report.category_id, Report.status, Report.h3_r9)
    )
    session.execute(
        sa.insert(HexCount).from_select(["day", "ward_code", "category_id", "status", "cell9", "cell8", "n"], grouped)
    )
    rows, reports = session.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(HexCount.n), 0))).one()
    return Rebuilt(int(rows), int(reports), cells_set)


_STATUSES = tuple(s.value for s in ReportStatus)
_STATUS_INDEX = {value: i for i, value in enumerate(_STATUSES)}


class _Packer:
    """Packs a key into one int and back. At a million reports the fresh count has about a
    million keys: as tuples they take about 0.7 GB, as ints about a tenth of that."""

    def __init__(self) -> None:
        self.wards: dict[str, int] = {}
        self.categories: dict[int, int] = {}

    def pack(self, key: Key) -> int:
        day, ward_code, category_id, status, cell9 = key
        ward = self.wards.setdefault(ward_code, len(self.wards))
        category = self.categories.setdefault(category_id, len(self.categories))
        # Bits, low to high: status (3), category (16), ward (12), day ordinal (20: until 2870), cell.
        packed = ((cell9 << 20 | day.toordinal()) << 12 | ward) << 16 | category
        return packed << 3 | _STATUS_INDEX[status]

    def unpack(self, packed: int) -> Key:
        wards = {i: code for code, i in self.wards.items()}
        categories = {i: cid for cid, i in self.categories.items()}
        status, packed = _STATUSES[packed & 7], packed >> 3
        category, packed = categories[packed & 0xFFFF], packed >> 16
        ward, packed = wards[packed & 0xFFF], packed >> 12
        return dt.date.fromordinal(packed & 0xFFFFF), ward, category, status, packed >> 20


def _expected_counts(session: Session, packer: _Packer, problems: list[str], *, batch: int) -> dict[int, int]:
    """Count the published reports afresh in Python (cells from the public location, days from
    ``day_of``), independently of the SQL ``rebuild`` uses, by packed key. Reports whose
    stored ``h3_r9``/``h3_r8`` disagree with their public location are described in
    ``problems``."""
    sums: dict[int, int] = defaultdict(int)
    stale = 0
    columns = (
        Report.id,
        Report.public_lon,
        Report.public_lat,
        Report.h3_r9,
        Report.h3_r8,
        Report.created_at,
        Report.ward_code,
        Report.category_id,
        Report.status,
    )
    published = sa.select(*columns).where(Report.published_at.is_not(None))
    # A Core statement on the session's connection: the ORM's row handling would double the time.
    for rid, lon, lat, r9, r8, created_at, ward_code, category_id, status in session.connection().execute(
        published.execution_options(yield_per=batch)
    ):
        cell9, cell8 = cells_of(lon, lat)
        if (r9, r8) != (cell9, cell8):
            stale += 1
            if stale <= 20:
                problems.append(f"report {rid}: stored cells {r9}/{r8}, its public location gives {cell9}/{cell8}")
        sums[packer.pack((day_of(created_at), ward_code, category_id, status.value, cell9))] += 1
    if stale > 20:
        problems.append(f"... {stale - 20} more reports with stale cells")
    return sums


def verify(session: Session, *, batch: int = 20000) -> list[str]:
    """Compare every row of the table with a fresh count from the reports, and every published
    report's stored cells with its public location.

    Returns a line per difference (empty when all agree); run ``rebuild`` to repair.
    """
    session.flush()
    problems: list[str] = []
    packer = _Packer()
    expected = _expected_counts(session, packer, problems, batch=batch)
    stored = session.execute(
        sa.select(HexCount.day, HexCount.ward_code, HexCount.category_id, HexCount.status, HexCount.cell9, HexCount.n)
        .order_by(*(HexCount.__table__.c[name] for name in _KEY_COLUMNS))
        .execution_options(yield_per=batch)
    )
    differences: list[str] = []
    for day, ward_code, category_id, status, cell9, n in stored:
        key = (day, ward_code, category_id, status, cell9)
        want = expected.pop(packer.pack(key), 0)
        if want != n:
            differences.append(f"{_describe(key)}: table has {n}, reports give {want}")
    differences.extend(
        f"{_describe(packer.unpack(key))}: table has 0, reports give {want}" for key, want in expected.items() if want
    )
    return problems + sorted(differences)


def _describe(key: Key) -> str:
    day, ward_code, category_id, status, cell9 = key
    return f"{day.isoformat()} ward {ward_code} category {category_id} {status} cell {cell9:x}"
