"""Time the ward dashboard at 1,000,000 reports: refreshing the hex counts for one new report,
the full rebuild and check (with peak memory), city-wide Gi* over 12 months, and the
dashboard page for an administrator and a ward officer.

Usage::

    .venv/bin/python -m bench.bench_hotspots --db postgis --reports 1000000 --keep
    .venv/bin/python -m bench.bench_hotspots --db spatialite --reports 1000000 --keep

The database (``tellus_bench_hotspots_<N>``) gets the demo reports through the bulk path
(``bench.common``: ``app.reports.demo.generate`` computes each report's H3 cells in its insert
loop and rebuilds ``hex_counts`` at the end; both timed). ``--keep`` reuses it. An
administrator and a ward officer (Foleshill, Longford, Henley, like the demo's) are added if
missing.

Cases (``--cases``, default all, in this order):

- ``gi``: ``app.hotspots.analysis.hotspot_layer`` for the whole city over the 12 months to
  the newest report, at the city resolution (8), ``--gi-runs`` times; also its two parts
  apart: the counts query (``analysis.cell_counts``) and the statistics
  (``geo.hotspot_stats.hotspots``). Target: under 1 s on PostGIS (issue 6).
- ``dashboard``: ``GET /dashboard`` through ``app.test_client()`` signed in (a real
  server-side session with its second factor), ``--requests`` times after ``--warmup``: the
  administrator city-wide (the default 12 weeks, and 12 months), the ward officer (their
  three wards, and one ward). Each request's SQL is replayed on a bare connection straight
  after it, so ``bare`` is the database's share. Target: p95 ≤ 300 ms on PostGIS.
- ``refresh``: one new report counted: ``counts.add`` plus the flush that stores its H3 cells
  (the hex counts' share), and ``aggregates.add`` (what publishing does: the map's 8 cells and
  the hex counts), each ``--samples`` times, each report inserted first (not timed) in a
  transaction rolled back afterwards. Target: ≤ 10 ms.
- ``rebuild``: ``flask hotspots rebuild``'s work (``counts.rebuild_all``), committed (it
  rewrites the same rows), timed; then again under tracemalloc for the Python heap's peak.
  The process's peak RSS growth (VmHWM after resetting it) is recorded on the untraced run.
  PostgreSQL's own memory is not in these figures. VACUUM (ANALYZE) follows on PostGIS.
- ``verify``: ``counts.verify`` (a fresh count in Python, compared row by row), timed and
  with the same memory figures.

Results go to ``bench/results/hotspots_<db>_<N>.json`` with the machine and its load.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import pyotp
import sqlalchemy as sa

from app.accounts.models import User
from app.accounts.sessions import start_session
from app.db import utcnow
from app.extensions import db
from app.geography.models import Postcode, Ward
from app.hotspots import analysis, counts
from app.hotspots.filters import parse_filter
from app.hotspots.models import CITY_RESOLUTION
from app.partners.models import WardOfficerWard
from app.reports import aggregates
from app.reports.models import Category, Report, ReportStatus
from bench.bbox import Bare, Capture, pct
from bench.common import (
    BenchDB,
    add_arguments,
    bulk_load,
    has_statistics,
    loadavg,
    machine,
    mb,
    open_database,
    other_load,
    save_meta,
    sqlite_analyze,
    write_results,
)
from geo import hotspot_stats

GI_TARGET_S = 1.0
PAGE_TARGET_MS = 300.0
REFRESH_TARGET_MS = 10.0
ADMIN_EMAIL = "bench-admin@example.org"
OFFICER_EMAIL = "bench-officer@example.org"
OFFICER_WARDS = ("Foleshill", "Longford", "Henley")
CASES = ("gi", "dashboard", "refresh", "rebuild", "verify")

T = TypeVar("T")


def stats_ms(values_s: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values_s]
    return {
        "p50": round(pct(ms, 0.5), 2),
        "p95": round(pct(ms, 0.95), 2),
        "max": round(max(ms), 2),
        "mean": round(statistics.fmean(ms), 2),
        "n": len(ms),
    }


# --- Memory ---------------------------------------------------------------------------------------


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def measured(work: Callable[[], T]) -> tuple[T, float, int | None]:
    """Run ``work``; return its result, seconds and the growth of the process's peak RSS in
    bytes (None where the peak cannot be reset)."""
    rss_before = _status_kb("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM (peak RSS) to the current RSS
        resettable = True
    except OSError:
        resettable = False
    started = time.perf_counter()
    result = work()
    elapsed = time.perf_counter() - started
    growth = (_status_kb("VmHWM") - rss_before) * 1024 if resettable else None
    return result, elapsed, growth


def traced(work: Callable[[], T]) -> tuple[T, float, int]:
    """Run ``work`` under tracemalloc; return its result, seconds (slowed by tracing) and the
    peak of Python's heap above where it started, in bytes."""
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    started = time.perf_counter()
    try:
        result = work()
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return result, elapsed, peak


# --- Set-up ----------------------------------------------------------------------------------------


def ensure_people(bench: BenchDB) -> dict[str, int]:
    """An administrator and a ward officer (ids), made once per database."""
    with bench.app.app_context():
        session = db.session
        ids: dict[str, int] = {}
        for key, email in (("admin", ADMIN_EMAIL), ("officer", OFFICER_EMAIL)):
            user = session.scalar(sa.select(User).where(User.email == email))
            if user is None:
                user = User(
                    email=email,
                    display_name=f"Bench {key}",
                    email_verified_at=utcnow(),
                    is_admin=key == "admin",
                    totp_secret=pyotp.random_base32(),
                    totp_enabled_at=utcnow(),
                )
                session.add(user)
                session.flush()
                if key == "officer":
                    codes = session.scalars(sa.select(Ward.code).where(Ward.name.in_(OFFICER_WARDS)))
                    session.add_all(WardOfficerWard(user_id=user.id, ward_code=code) for code in codes)
            ids[key] = user.id
        session.commit()
    return ids


def ensure_hex_counts(bench: BenchDB) -> dict[str, Any] | None:
    """Build the hex counts if a reused database predates them; returns how long it took."""
    if bench.hex_count():
        return None
    print("The database has no hex counts yet: rebuilding them ...", flush=True)
    with bench.app.app_context():
        result, seconds, _ = measured(lambda: counts.rebuild_all(db.session))
        db.session.commit()
    return {"rows": result.rows, "cells_set": result.cells_set, "seconds": round(seconds, 1)}


def vacuum(bench: BenchDB) -> None:
    if bench.kind == "postgis":
        with bench.engine.connect() as conn:
            auto = conn.execution_options(isolation_level="AUTOCOMMIT")
            auto.exec_driver_sql("VACUUM (ANALYZE) hex_counts")
            auto.exec_driver_sql("VACUUM (ANALYZE) reports")


# --- Cases ----------------------------------------------------------------------------------------


def case_gi(bench: BenchDB, admin_id: int, runs: int) -> dict[str, Any]:
    """City-wide Gi* over the 12 months to the newest report, at resolution 8."""
    with bench.app.app_context():
        session = db.session
        admin = session.get(User, admin_id)
        on = counts.day_of(bench.end)
        filters = parse_filter(session, admin, ward=None, period="12m", on=on)
        layer_s, query_s, stats_s = [], [], []
        cells = hot = 0
        reports = 0
        for _ in range(runs + 1):  # the first run warms the caches and is dropped
            started = time.perf_counter()
            layer = analysis.hotspot_layer(session, filters, CITY_RESOLUTION)
            layer_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            found = analysis.cell_counts(session, filters, CITY_RESOLUTION)
            query_s.append(time.perf_counter() - started)
            area = {cell: float(found.get(cell, 0)) for cell in layer}
            started = time.perf_counter()
            hotspot_stats.hotspots(area)
            stats_s.append(time.perf_counter() - started)
            cells, hot = len(layer), sum(1 for r in layer.values() if r.hot is True)
            reports = sum(found.values())
            session.rollback()
    result = {
        "period": f"{filters.start} to {filters.end}",
        "cells": cells,
        "hot_cells": hot,
        "reports_counted": int(reports),
        "hotspot_layer_ms": stats_ms(layer_s[1:]),
        "cell_counts_query_ms": stats_ms(query_s[1:]),
        "gi_statistics_ms": stats_ms(stats_s[1:]),
        "target_s": GI_TARGET_S,
    }
    print(f"  gi: {result['hotspot_layer_ms']['p50']} ms median, {cells} cells, {hot} hot", flush=True)
    return result


@dataclass
class PageCase:
    name: str
    url: str
    app_s: list[float] = field(default_factory=list)
    bare_s: list[float] = field(default_factory=list)
    statements: set[int] = field(default_factory=set)
    size: int = 0


class Pages:
    """Sends dashboard requests as one signed-in person and replays their SQL on a bare connection."""

    def __init__(self, bench: BenchDB, user_id: int, capture: Capture, bare: Bare) -> None:
        self.client = bench.app.test_client()
        self.capture = capture
        self.bare = bare
        with bench.app.app_context():
            user = db.session.get(User, user_id)
            assert user is not None
            raw = start_session(db.session, user, ip="127.0.0.1", user_agent="bench", second_factor=True)
            db.session.commit()
        with self.client.session_transaction() as session:
            session["sid"] = raw
            session["_user_id"] = str(user_id)
            session["_fresh"] = True

    def run(self, case: PageCase, warmup: int, requests: int) -> PageCase:
        for i in range(warmup + requests):
            self.capture.active = True
            started = time.perf_counter()
            response = self.client.get(case.url)
            elapsed = time.perf_counter() - started
            self.capture.active = False
            statements = self.capture.take()
            if response.status_code != 200:
                raise RuntimeError(f"{case.url}: HTTP {response.status_code}: {response.get_data(as_text=True)[:300]}")
            bare_s = self.replay(statements)
            if i >= warmup:
                case.app_s.append(elapsed)
                case.bare_s.append(bare_s)
                case.statements.add(len(statements))
                case.size = len(response.data)
        print(f"  {case.name}: p95 {stats_ms(case.app_s)['p95']} ms", flush=True)
        return case

    def replay(self, statements: list[tuple[str, Any]]) -> float:
        cur = self.bare.conn.cursor()
        started = time.perf_counter()
        for statement, parameters in statements:
            cur.execute(statement, parameters)
            if cur.description is not None:
                cur.fetchall()
        elapsed = time.perf_counter() - started
        cur.close()
        return elapsed


def case_dashboard(bench: BenchDB, people: dict[str, int], warmup: int, requests: int) -> dict[str, Any]:
    with bench.app.app_context():
        foleshill = db.session.scalar(sa.select(Ward.code).where(Ward.name == "Foleshill"))
    capture = Capture(bench.engine)
    bare = Bare(bench)
    plans = [
        ("admin", PageCase("admin-city-12w", "/dashboard")),
        ("admin", PageCase("admin-city-12m", f"/dashboard?{urlencode({'period': '12m'})}")),
        (
            "admin",
            PageCase("admin-city-12m-hotspots", f"/dashboard?{urlencode({'period': '12m', 'layer': 'hotspots'})}"),
        ),
        ("officer", PageCase("officer-3-wards-12w", "/dashboard")),
        ("officer", PageCase("officer-foleshill-12m", f"/dashboard?{urlencode({'ward': foleshill, 'period': '12m'})}")),
    ]
    pages = {who: Pages(bench, people[who], capture, bare) for who in ("admin", "officer")}
    results = {}
    for who, case in plans:
        pages[who].run(case, warmup, requests)
        results[case.name] = {
            "url": case.url,
            "as": who,
            "app_ms": stats_ms(case.app_s),
            "bare_ms": stats_ms(case.bare_s),
            "statements_per_request": sorted(case.statements),
            "size_kb": round(case.size / 1024, 1),
            "target_p95_ms": PAGE_TARGET_MS,
        }
    bare.close()
    return results


def case_refresh(bench: BenchDB, samples: int, seed: int) -> dict[str, Any]:
    """One new report counted, each in a transaction rolled back."""
    rng = random.Random(seed)
    with bench.app.app_context():
        session = db.session
        places = session.execute(sa.select(Postcode.lon, Postcode.lat, Postcode.ward_code)).all()
        categories = list(session.scalars(sa.select(Category.id).where(Category.active, ~Category.sensitive)))
        session.rollback()
        timings: dict[str, list[float]] = {"counts.add": [], "aggregates.add": []}
        warmup = 5
        for i in range(warmup + samples):
            for name in timings:
                lon, lat, ward = rng.choice(places)
                created = bench.end - dt.timedelta(days=rng.uniform(0, 28))
                report = Report(
                    category_id=rng.choice(categories),
                    status=ReportStatus.NEW,
                    title="Benchmark report",
                    description="Made by bench.bench_hotspots.",
                    lon=lon,
                    lat=lat,
                    geom=f"SRID=4326;POINT({lon!r} {lat!r})",
                    public_lon=lon,
                    public_lat=lat,
                    public_geom=f"SRID=4326;POINT({lon!r} {lat!r})",
                    ward_code=ward,
                    ward_vintage="",
                    reporter_email="bench@example.org",
                    source="bench",
                    published_at=created,
                    created_at=created,
                    updated_at=created,
                )
                session.add(report)
                session.flush()
                started = time.perf_counter()
                if name == "counts.add":
                    counts.add(session, [report])
                else:
                    aggregates.add(session, [report])
                session.flush()  # writes the report's h3_r9/h3_r8
                elapsed = time.perf_counter() - started
                session.rollback()
                if i >= warmup:
                    timings[name].append(elapsed)
    result = {name: stats_ms(values) for name, values in timings.items()}
    result["target_ms"] = {"counts.add": REFRESH_TARGET_MS}  # type: ignore[assignment]
    print(f"  refresh: counts.add p50 {result['counts.add']['p50']} ms, p95 {result['counts.add']['p95']} ms")
    return result


def case_rebuild(bench: BenchDB) -> dict[str, Any]:
    with bench.app.app_context():
        session = db.session
        result, seconds, rss = measured(lambda: counts.rebuild_all(session))
        started = time.perf_counter()
        session.commit()
        commit_s = time.perf_counter() - started
        _, traced_s, peak = traced(lambda: counts.rebuild_all(session))
        session.commit()
    vacuum(bench)
    print(f"  rebuild: {seconds:.1f} s, {result.rows:,} rows, Python peak {mb(peak)} MB", flush=True)
    return {
        "seconds": round(seconds, 2),
        "commit_s": round(commit_s, 2),
        "rows": result.rows,
        "reports": result.reports,
        "cells_set": result.cells_set,
        "peak_rss_growth_mb": mb(rss) if rss is not None else None,
        "python_heap_peak_mb": mb(peak),
        "seconds_under_tracemalloc": round(traced_s, 2),
    }


def case_verify(bench: BenchDB) -> dict[str, Any]:
    with bench.app.app_context():
        session = db.session
        problems, seconds, rss = measured(lambda: counts.verify(session))
        session.rollback()
        _, traced_s, peak = traced(lambda: counts.verify(session))
        session.rollback()
    print(f"  verify: {seconds:.1f} s, {len(problems)} differences, Python peak {mb(peak)} MB", flush=True)
    return {
        "seconds": round(seconds, 2),
        "differences": len(problems),
        "peak_rss_growth_mb": mb(rss) if rss is not None else None,
        "python_heap_peak_mb": mb(peak),
        "seconds_under_tracemalloc": round(traced_s, 2),
    }


# --- Main -----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--samples", type=int, default=200, help="refresh samples (default %(default)s)")
    parser.add_argument("--requests", type=int, default=40, help="dashboard requests per case (default %(default)s)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up requests per case (default %(default)s)")
    parser.add_argument("--gi-runs", type=int, default=10, help="city-wide Gi* runs (default %(default)s)")
    parser.add_argument("--cases", default="", help=f"comma-separated, from {', '.join(CASES)} (default: all)")
    parser.add_argument("--analyze", action="store_true", help="SpatiaLite: run ANALYZE first (the app never does)")
    args = parser.parse_args(argv)
    wanted = [c.strip() for c in args.cases.split(",") if c.strip()] or list(CASES)
    unknown = set(wanted) - set(CASES)
    if unknown:
        parser.error(f"unknown cases: {', '.join(sorted(unknown))}")

    bench, populated = open_database(args, label="hotspots")
    if not populated:
        print(f"Loading {bench.reports:,} reports through the bulk path ...", flush=True)
        timings = bulk_load(bench, batch=args.batch)
        save_meta(
            bench,
            {
                "load": timings.__dict__,
                "cells": bench.cell_count(),
                "hex_counts": bench.hex_count(),
                "size": bench.size_bytes(),
            },
        )
    late_rebuild = ensure_hex_counts(bench)
    people = ensure_people(bench)
    analyze_s = sqlite_analyze(bench) if args.analyze and bench.kind == "spatialite" else None
    info = machine(bench)
    print(f"Measuring {', '.join(wanted)} on {bench.kind} ({bench.reports:,} reports), load {loadavg()}", flush=True)
    results: dict[str, Any] = {}
    loads: dict[str, Any] = {}
    for name in wanted:
        loads[name] = {"start": loadavg()}
        if name == "gi":
            results[name] = case_gi(bench, people["admin"], args.gi_runs)
        elif name == "dashboard":
            results[name] = case_dashboard(bench, people, args.warmup, args.requests)
        elif name == "refresh":
            results[name] = case_refresh(bench, args.samples, args.seed)
        elif name == "rebuild":
            results[name] = case_rebuild(bench)
        else:
            results[name] = case_verify(bench)
        loads[name]["end"] = loadavg()
        loads[name]["others"] = other_load()
    result = {
        "db": bench.kind,
        "reports": bench.reports,
        "hex_counts_rows": bench.hex_count(),
        "report_cells_rows": bench.cell_count(),
        "size_bytes": bench.size_bytes(),
        "load": bench.meta.get("load"),
        "late_hex_rebuild": late_rebuild,
        "planner_statistics": has_statistics(bench),
        "analyze_s": analyze_s,
        "machine": info,
        "loadavg_by_case": loads,
        "loadavg_end": loadavg(),
        "other_processes_end": other_load(),
        "pid": os.getpid(),
        "cases": results,
    }
    path = write_results(f"hotspots_{bench.kind}_{bench.reports}", result)
    print_report(result)
    print(f"Results in {path}")


def print_report(result: dict[str, Any]) -> None:
    print()
    print(f"{result['db']}, {result['reports']:,} reports, {result['hex_counts_rows']:,} hex_counts rows")
    load = result.get("load") or {}
    if load:
        print(
            f"  bulk load          {load.get('total_s', 0):8.1f} s (inserts, H3 cells included,"
            f" {load.get('inserts_s', 0):.1f} s,"
            f" map cells {load.get('map_cells_s', 0):.1f} s, hex counts {load.get('hex_counts_s', 0):.1f} s)"
        )
    cases = result["cases"]
    if "gi" in cases:
        gi = cases["gi"]
        print(
            f"  city Gi* 12 months {gi['hotspot_layer_ms']['p50']:8.1f} ms p50, {gi['hotspot_layer_ms']['p95']:.1f} ms"
            f" p95 (query {gi['cell_counts_query_ms']['p50']:.1f} ms,"
            f" statistics {gi['gi_statistics_ms']['p50']:.1f} ms;"
            f" {gi['cells']} cells, {gi['hot_cells']} hot)"
        )
    for name, page in cases.get("dashboard", {}).items():
        print(
            f"  {name:24} p50 {page['app_ms']['p50']:7.1f} ms  p95 {page['app_ms']['p95']:7.1f} ms"
            f"  (database p95 {page['bare_ms']['p95']:.1f} ms, {page['statements_per_request']} statements)"
        )
    if "refresh" in cases:
        for name in ("counts.add", "aggregates.add"):
            r = cases["refresh"][name]
            print(f"  refresh {name:15} p50 {r['p50']:6.2f} ms  p95 {r['p95']:6.2f} ms  max {r['max']:.2f} ms")
    for name in ("rebuild", "verify"):
        if name in cases:
            r = cases[name]
            print(
                f"  {name:18} {r['seconds']:8.1f} s, peak RSS growth {r['peak_rss_growth_mb']} MB,"
                f" Python heap peak {r['python_heap_peak_mb']} MB"
            )
    print(f"  load average: end {result['loadavg_end']}; by case {result['loadavg_by_case']}")


if __name__ == "__main__":
    main()
