"""Exports stream: memory stays flat as rows grow, and a long export blocks no writer.

The memory test compares tracemalloc's peak over the same export of 2,000 and 20,000
bulk-inserted reports; the concurrency test commits writes from another connection while an
export is half read, in a database of its own (the test commits)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.db import utcnow
from app.extensions import db
from app.hotspots import exports
from app.hotspots.filters import DashboardFilter
from app.hotspots.filters import today as dashboard_today
from app.reports.models import Category, Report, ReportStatus
from tests.conftest import make_test_app, prepare_database
from tests.dbutil import create_database, drop_database
from tests.hotspots.conftest import ST_MICHAELS, ST_MICHAELS_POINT


def insert_reports(session: Session, count: int, *, start: int = 0) -> None:
    """``count`` published fly-tipping reports in St Michael's made in the last few days,
    inserted in bulk (Core, like the demo loader) with realistic text lengths."""
    category_id = session.scalar(sa.select(Category.id).where(Category.slug == "fly-tipping"))
    now = utcnow()
    lon, lat = ST_MICHAELS_POINT
    rows: list[dict[str, Any]] = []
    for n in range(start, start + count):
        x, y = lon + (n % 97) * 1e-5, lat + (n % 89) * 1e-5
        made = now - dt.timedelta(minutes=n % 5000)
        rows.append(
            {
                "category_id": category_id,
                "status": "new",
                "title": f"Rubbish dumped by the garages, number {n}",
                "description": "Black bags, a mattress and an old fridge left by the garages. " * 3,
                "lon": x,
                "lat": y,
                "geom": f"SRID=4326;POINT({x} {y})",
                "public_lon": x,
                "public_lat": y,
                "public_geom": f"SRID=4326;POINT({x} {y})",
                "ward_code": ST_MICHAELS,
                "ward_vintage": "2025-05",
                "reporter_email": f"bulk{n}@example.org",
                "source": "test",
                "published_at": made,
                "created_at": made,
                "updated_at": made,
            }
        )
        if len(rows) == 5000:
            session.execute(sa.insert(Report.__table__), rows)
            rows = []
    if rows:
        session.execute(sa.insert(Report.__table__), rows)
    session.flush()


def peak_while_downloading(client: FlaskClient, path: str) -> tuple[int, int]:
    """(tracemalloc peak in bytes, body length) over one streamed download of ``path``, read
    chunk by chunk and never kept whole."""
    tracemalloc.start()
    try:
        response = client.get(path, buffered=False)
        assert response.status_code == 200
        size = sum(len(chunk) for chunk in response.iter_encoded())
        response.close()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, size


@pytest.mark.parametrize("path", ["/dashboard/export/reports.csv", "/dashboard/export/reports.geojson"])
def test_memory_does_not_grow_with_the_number_of_rows(
    client: FlaskClient,
    db_session: Session,
    login: Callable[[User], None],
    make_user: Callable[..., User],
    path: str,
) -> None:
    """Does streaming 20,000 reports peak at about the memory of 2,000 (one batch at a time),
    where a buffered export would need ten times as much?"""
    login(make_user(wards=[ST_MICHAELS]))
    insert_reports(db_session, 2_000)
    client.get(path).close()  # warm up: compiled SQL, templates, imports
    small_peak, small_size = peak_while_downloading(client, path)
    insert_reports(db_session, 18_000, start=2_000)
    large_peak, large_size = peak_while_downloading(client, path)
    assert large_size > 9 * small_size
    assert large_peak < 1.5 * small_peak, (small_peak, large_peak)
    # One batch of 1,000 rows and its text peak at 3 to 5 MB; an export built whole would
    # hold its 8 MB (CSV) or 13 MB (GeoJSON) body, twice over once encoded, and the rows.
    assert large_peak < 6 * 1024 * 1024 < large_size, (large_peak, large_size)


def test_closing_a_download_early_stops_reading(
    client: FlaskClient,
    db_session: Session,
    login: Callable[[User], None],
    make_user: Callable[..., User],
    count_queries: Callable[[], Any],
) -> None:
    """If the client goes away after the first chunk, is the stream closed without reading the
    rest, and can the next request use the database?"""
    login(make_user(wards=[ST_MICHAELS]))
    insert_reports(db_session, 3_000)
    response = client.get("/dashboard/export/reports.csv", buffered=False)
    chunks = response.iter_encoded()
    assert next(chunks).startswith(b"reference,id,url")
    assert next(chunks).count(b"\r\n") == exports.BATCH_ROWS
    response.close()
    rows = list(csv.DictReader(io.StringIO(client.get("/dashboard/export/reports.csv").get_data(as_text=True))))
    assert len(rows) == 3_000


# --- Writers during a long export ----------------------------------------------------------------


@pytest.fixture
def committed(db_kind: str, tmp_path: Path) -> Iterator[tuple[Flask, sa.Engine]]:
    """A database of its own holding 2,500 committed reports."""
    url = create_database(db_kind, tmp_path, "exports")
    app = make_test_app(url, tmp_path / "uploads")
    prepare_database(app)
    try:
        with app.app_context():
            engine = db.engine
            with Session(engine) as session:
                insert_reports(session, 2_500)
                session.commit()
            yield app, engine
    finally:
        with app.app_context():
            db.engine.dispose()
        drop_database(url)


def test_writers_commit_while_an_export_is_half_read(committed: tuple[Flask, sa.Engine]) -> None:
    """While an export has read one batch and holds its cursor open, can another connection
    update and insert reports at once (no lock makes it wait), and does the export still give
    the reports as they were when it started (one consistent snapshot)?"""
    app, engine = committed
    day = dashboard_today()
    filters = DashboardFilter(
        wards=(ST_MICHAELS,), start=day - dt.timedelta(days=30), end=day, scope={ST_MICHAELS: None}
    )
    with engine.connect() as conn:
        last_id = conn.scalar(sa.select(sa.func.max(Report.id)))
    with app.app_context(), Session(engine) as session:
        admin = User(email="admin@example.org", display_name="Admin", password_hash="x", is_admin=True)
        export = exports.prepare_reports(session, admin, filters, report_url="/reports/{id}", now=utcnow())
        chunks = exports.reports_csv(session, export)
        text = next(chunks) + next(chunks)
        started = time.perf_counter()
        with engine.begin() as writer:
            writer.execute(sa.update(Report).where(Report.id == last_id).values(title="Changed during the export"))
            insert_reports(Session(bind=writer), 1, start=10_000)
        waited = time.perf_counter() - started
        text += "".join(chunks)
    rows = {int(row["id"]): row for row in csv.DictReader(io.StringIO(text))}
    assert waited < 1.0, f"the writer waited {waited:.1f} s"
    assert len(rows) == 2_500
    assert rows[last_id]["title"] != "Changed during the export"
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(Report)) == 2_501


def test_the_database_streams_rows_without_holding_them(db_session: Session, db_kind: str) -> None:
    """Does the export's query hold no rows in the database client: on SQLite, read in order
    from the created_at index with no temporary B-tree (SQLite's sorter keeps every row in the
    process's memory, where tracemalloc cannot see it), and on PostgreSQL through a server-side
    cursor (the server sorts, within work_mem)?"""
    day = dashboard_today()
    wards = (ST_MICHAELS, "E05001222")
    filters = DashboardFilter(
        wards=wards,
        start=day - dt.timedelta(days=83),
        end=day,
        scope={ST_MICHAELS: None, "E05001222": frozenset({1, 2})},
        categories=(1, 2),
        statuses=(ReportStatus.NEW, ReportStatus.RESOLVED),
    )
    query = exports.report_query(filters, db_session.get_bind().dialect.name)
    if db_kind == "spatialite":
        rows = db_session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + compiled(query))
        plan = " | ".join(row[3] for row in rows)
        assert "USING INDEX ix_reports_created_at" in plan and "TEMP B-TREE" not in plan, plan
        return
    # PostgreSQL: the cursor the export's own query runs on.
    cursors: list[str] = []

    def spy(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "ORDER BY reports.created_at" in statement:
            cursors.append(type(cursor).__name__)

    admin = User(email="a@example.org", display_name="A", password_hash="!", is_admin=True)
    export = exports.prepare_reports(db_session, admin, filters, report_url="/reports/{id}", now=utcnow())
    engine = db_session.get_bind()
    event.listen(engine, "before_cursor_execute", spy)
    try:
        batches = exports.report_batches(db_session, export)
        next(batches, None)
        batches.close()
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    assert cursors == ["ServerCursor"]


def compiled(query: Any) -> str:
    from sqlalchemy.dialects import sqlite

    return str(query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
