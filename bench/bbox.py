"""Time the map's bbox endpoint, GET /api/reports.geojson, against the bare SQL it runs.

Usage::

    .venv/bin/python -m bench.bbox --db postgis --reports 1000000 --keep
    .venv/bin/python -m bench.bbox --db spatialite --reports 1000000 --keep

Three cases, each ``--requests`` times after ``--warmup`` requests:

- city: the whole city (bbox -1.6148,52.3636,-1.4239,52.4649), no filters;
- street: about 600 m x 400 m windows, each centred on a different report's public location
  (a seeded random sample, so the windows are spread like the reports and the database's
  caches do not see the same window twice);
- city-filtered: the whole city, one category (fly-tipping, the largest), from 12 months
  before the newest report;
- city-points: the whole city, a rare category (unsafe buildings) over the last 10 days:
  few enough reports that the endpoint returns points, the largest kind of response.

Each request goes through the Flask test client. The SQL statements it runs are captured
(``before_cursor_execute``) and replayed, in the same run, on a plain DBAPI connection
(psycopg or pysqlite3 with mod_spatialite) with the same parameters, fetching every row:
that is the bare-SQL floor, and ``app/bare`` is the ratio. The replay runs straight after
the request, on pages the request has just read, so app/bare errs on the high side. Then every distinct query
of each case is EXPLAINed (PostGIS: EXPLAIN (ANALYZE, BUFFERS); SpatiaLite: EXPLAIN QUERY
PLAN), plus the street-zoom points query even when the endpoint answered with clusters.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import math
import pstats
import random
import statistics
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import psycopg
import sqlalchemy as sa
from sqlalchemy import event

from bench.common import (
    RESULTS_DIR,
    BenchDB,
    add_arguments,
    ensure_populated,
    has_statistics,
    kb,
    loadavg,
    machine,
    open_database,
    other_load,
    sqlite_analyze,
    write_results,
)

CITY_BBOX = (-1.6148, 52.3636, -1.4239, 52.4649)
STREET_WIDTH_M = 600
STREET_HEIGHT_M = 400
FILTER_CATEGORY = "fly-tipping"
# Rare enough that the city over the last 10 days holds fewer than MAP_MAX_POINTS reports,
# so the endpoint answers with points at city zoom: the biggest responses it gives.
POINTS_CATEGORY = "unsafe-buildings"
POINTS_DAYS = 10
ENDPOINT = "/api/reports.geojson"
TARGETS_MS = {"city": 150.0, "city-filtered": 150.0, "city-points": 150.0, "street": 50.0}
TARGET_KB = 200.0
PG_OPTIONS = "-c plan_cache_mode=force_custom_plan"
SKIP = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def street_bbox(lon: float, lat: float) -> tuple[float, float, float, float]:
    """A 600 m x 400 m box centred on (lon, lat)."""
    half_w = STREET_WIDTH_M / 2 / (111_320 * math.cos(math.radians(lat)))
    half_h = STREET_HEIGHT_M / 2 / 111_320
    return (round(lon - half_w, 6), round(lat - half_h, 6), round(lon + half_w, 6), round(lat + half_h, 6))


def bbox_param(box: tuple[float, float, float, float]) -> str:
    return ",".join(f"{v:.6f}" for v in box)


# --- Capturing and replaying the SQL ------------------------------------------------------------


class Capture:
    """Records the statements the app sends to the database while ``active``."""

    def __init__(self, engine: sa.Engine) -> None:
        self.active = False
        self.statements: list[tuple[str, Any]] = []
        event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if self.active and not statement.lstrip().upper().startswith(SKIP):
            self.statements.append((statement, parameters))

    def take(self) -> list[tuple[str, Any]]:
        out, self.statements = self.statements, []
        return out


class Bare:
    """A plain DBAPI connection to the benchmark database, without SQLAlchemy or Flask."""

    def __init__(self, bench: BenchDB) -> None:
        self.kind = bench.kind
        if bench.kind == "postgis":
            # The same session setting as the app's engine (app/db.py make_engine).
            self.conn: Any = psycopg.connect(bench.url, autocommit=True, options=PG_OPTIONS)
        else:
            import pysqlite3.dbapi2 as sqlite_module

            assert bench.sqlite_path is not None
            self.conn = sqlite_module.connect(str(bench.sqlite_path), isolation_level=None)
            self.conn.enable_load_extension(True)
            self.conn.load_extension("mod_spatialite")

    def run(self, statements: list[tuple[str, Any]]) -> tuple[float, int]:
        """Run ``statements`` in order, fetching every row; return (seconds, rows)."""
        rows = 0
        cur = self.conn.cursor()
        started = time.perf_counter()
        for statement, parameters in statements:
            cur.execute(statement, parameters)
            rows += len(cur.fetchall())
        elapsed = time.perf_counter() - started
        cur.close()
        return elapsed, rows

    def explain(self, statement: str, parameters: Any) -> str:
        if self.kind == "postgis":
            # Client-side binding: PostgreSQL does not take bind parameters in EXPLAIN.
            cur = psycopg.ClientCursor(self.conn)
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            return "\n".join(r[0] for r in cur.fetchall())
        cur = self.conn.cursor()
        cur.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        rows = cur.fetchall()
        depth: dict[int, int] = {0: -1}
        lines = []
        for node, parent, _, detail in rows:
            depth[node] = depth.get(parent, -1) + 1
            lines.append("  " * depth[node] + detail)
        return "\n".join(lines)

    def close(self) -> None:
        self.conn.close()


# --- Measuring ------------------------------------------------------------------------------------


@dataclass
class Sample:
    app_s: float
    bare_s: float
    size: int
    mode: str
    features: int
    total: int
    statements: int
    bare_rows: int


@dataclass
class Case:
    name: str
    queries: list[dict[str, str]]
    samples: list[Sample] = field(default_factory=list)
    first_statements: list[tuple[str, Any]] = field(default_factory=list)


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def summarise(case: Case) -> dict[str, Any]:
    app_ms = [s.app_s * 1000 for s in case.samples]
    bare_ms = [s.bare_s * 1000 for s in case.samples]
    sizes = [s.size for s in case.samples]
    modes: dict[str, int] = {}
    for s in case.samples:
        modes[s.mode] = modes.get(s.mode, 0) + 1
    ratios = [s.app_s / s.bare_s for s in case.samples if s.bare_s > 0]
    return {
        "requests": len(case.samples),
        "app_ms": {
            "p50": round(pct(app_ms, 0.5), 1),
            "p95": round(pct(app_ms, 0.95), 1),
            "max": round(max(app_ms), 1),
            "mean": round(statistics.fmean(app_ms), 1),
        },
        "bare_ms": {
            "p50": round(pct(bare_ms, 0.5), 1),
            "p95": round(pct(bare_ms, 0.95), 1),
            "max": round(max(bare_ms), 1),
            "mean": round(statistics.fmean(bare_ms), 1),
        },
        "ratio_p50": round(pct(app_ms, 0.5) / pct(bare_ms, 0.5), 2),
        "ratio_p95": round(pct(app_ms, 0.95) / pct(bare_ms, 0.95), 2),
        "ratio_median_paired": round(statistics.median(ratios), 2),
        "size_kb": {"mean": kb(statistics.fmean(sizes)), "max": kb(max(sizes))},
        "modes": modes,
        "features_mean": round(statistics.fmean(s.features for s in case.samples), 1),
        "features_max": max(s.features for s in case.samples),
        "reports_in_view_mean": round(statistics.fmean(s.total for s in case.samples)),
        "statements_per_request": sorted({s.statements for s in case.samples}),
        "bare_rows_mean": round(statistics.fmean(s.bare_rows for s in case.samples), 1),
    }


def sample_centres(bench: BenchDB, k: int, seed: int) -> list[tuple[float, float]]:
    """Public locations of ``k`` distinct reports chosen at random (seeded), in sample order."""
    query = sa.text("SELECT id, public_lon, public_lat FROM reports WHERE id IN :ids").bindparams(
        sa.bindparam("ids", expanding=True)
    )
    with bench.engine.connect() as conn:
        low, high = conn.execute(sa.text("SELECT min(id), max(id) FROM reports")).one()
        ids = random.Random(seed).sample(range(low, high + 1), k)
        found = {i: (x, y) for i, x, y in conn.execute(query, {"ids": ids})}
    return [found[i] for i in ids if i in found]


def label(statement: str) -> str:
    """A short name for one of the endpoint's statements."""
    text = " ".join(statement.split()).lower()
    if "from report_cells" in text:
        return "cells"
    if "from photos" in text:
        return "photos"
    if "from categories" in text and "from reports" not in text:
        return "category-lookup"
    if "from wards" in text:
        return "ward-lookup"
    if "from reports" in text and "limit" in text:
        return "points"
    if "from reports" in text:
        return "edge-days"
    return "other"


class Runner:
    def __init__(self, bench: BenchDB, args: argparse.Namespace) -> None:
        self.bench = bench
        self.args = args
        self.client = bench.app.test_client()
        self.capture = Capture(bench.engine)
        self.bare = Bare(bench)

    def request(self, params: dict[str, str]) -> tuple[float, bytes, list[tuple[str, Any]]]:
        url = f"{ENDPOINT}?{urlencode(params)}"
        self.capture.active = True
        started = time.perf_counter()
        response = self.client.get(url)
        elapsed = time.perf_counter() - started
        self.capture.active = False
        if response.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {response.status_code}: {response.get_data(as_text=True)[:300]}")
        return elapsed, response.data, self.capture.take()

    def measure(self, params: dict[str, str]) -> tuple[Sample, list[tuple[str, Any]]]:
        """One app request, then a bare replay of the statements it ran.

        The replay goes second, so it finds the pages the app request has just read: the
        bare figure is, if anything, flattered, and app/bare errs on the high side.
        """
        app_s, body, statements = self.request(params)
        bare_s, rows = self.bare.run(statements)
        data = json.loads(body)
        sample = Sample(
            app_s=app_s,
            bare_s=bare_s,
            size=len(body),
            mode=data["mode"],
            features=len(data["features"]),
            total=data["total"],
            statements=len(statements),
            bare_rows=rows,
        )
        return sample, statements

    def run_case(self, name: str, params_list: list[dict[str, str]]) -> Case:
        warmup, measured = params_list[: self.args.warmup], params_list[self.args.warmup :]
        for params in warmup:
            self.request(params)
            self.bare.run(self.capture.take())
        case = Case(name, queries=[])
        profiler = cProfile.Profile() if self.args.profile == name else None
        started = time.perf_counter()
        for i, params in enumerate(measured):
            if profiler:
                profiler.enable()
            sample, statements = self.measure(params)
            if profiler:
                profiler.disable()
            case.samples.append(sample)
            if i == 0:
                case.first_statements = statements
        print(f"  {name}: {len(measured)} requests in {time.perf_counter() - started:.1f} s", flush=True)
        if profiler:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
            path = RESULTS_DIR / f"profile_{self.bench.kind}_{name}.txt"
            path.write_text(out.getvalue())
            print(f"  profile of {name} in {path}")
        return case

    def explain(self, statements: list[tuple[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for statement, parameters in statements:
            kind = label(statement)
            plan = self.bare.explain(statement, parameters)
            out.append({"query": kind, "sql": " ".join(statement.split()), "plan": plan, **index_use(kind, plan)})
        return out

    def points_statements(self, box: tuple[float, float, float, float]) -> list[tuple[str, Any]]:
        """The statements ``points_in_box`` runs for ``box`` (no filters), captured from the app code."""
        from app.extensions import db
        from app.reports.queries import ReportFilter, points_in_box
        from geo.bbox import BBox

        with self.bench.app.app_context():
            self.capture.active = True
            points_in_box(db.session, BBox(*box), ReportFilter(), self.bench.app.config["MAP_MAX_POINTS"])
            self.capture.active = False
            db.session.rollback()
        return self.capture.take()


def index_use(kind: str, plan: str) -> dict[str, Any]:
    """Whether the plan uses the spatial index and the report_cells primary key."""
    low = plan.lower()
    found: dict[str, Any] = {}
    if kind in {"points", "edge-days"}:
        found["spatial_index"] = "idx_reports_public_geom" in low or "spatialindex virtual table index" in low
    if kind == "cells":
        # PostgreSQL names the index; SQLite says PRIMARY KEY (WITHOUT ROWID) or names its autoindex.
        found["cells_primary_key"] = any(
            name in low for name in ("pk_report_cells", "autoindex_report_cells", "report_cells using primary key")
        )
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--requests", type=int, default=200, help="measured requests per case (default %(default)s)")
    parser.add_argument("--warmup", type=int, default=5, help="warm-up requests per case (default %(default)s)")
    parser.add_argument(
        "--cases", default="city,street,city-filtered,city-points", help="comma-separated cases (default %(default)s)"
    )
    parser.add_argument("--profile", default="", help="cProfile this case's measured requests")
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="SpatiaLite: run ANALYZE first (the app never does; the statistics stay in the file)",
    )
    args = parser.parse_args(argv)

    bench, populated = open_database(args)
    ensure_populated(bench, populated, batch=args.batch)
    analyze_s = sqlite_analyze(bench) if args.analyze and bench.kind == "spatialite" else None
    if analyze_s is not None:
        print(f"ANALYZE took {analyze_s:.1f} s")
    info = machine(bench)
    runner = Runner(bench, args)
    n = args.warmup + args.requests
    city = {"bbox": bbox_param(CITY_BBOX)}
    start = (bench.end - dt.timedelta(days=365)).date().isoformat()
    recent = (bench.end - dt.timedelta(days=POINTS_DAYS)).date().isoformat()
    centres = sample_centres(bench, n, args.seed + 1)
    boxes = [street_bbox(lon, lat) for lon, lat in centres]
    plans: dict[str, list[dict[str, str]]] = {
        "city": [city] * n,
        "street": [{"bbox": bbox_param(b)} for b in boxes],
        "city-filtered": [{**city, "category": FILTER_CATEGORY, "from": start}] * n,
        "city-points": [{**city, "category": POINTS_CATEGORY, "from": recent}] * n,
    }
    wanted = [c.strip() for c in args.cases.split(",") if c.strip()]
    print(f"Measuring {', '.join(wanted)} on {bench.kind} ({bench.reports:,} reports), load {loadavg()}", flush=True)
    cases = {name: runner.run_case(name, plans[name]) for name in wanted}

    explains: dict[str, Any] = {}
    for name, case in cases.items():
        explains[name] = runner.explain(case.first_statements)
    if "street" in cases:
        explains["street-points"] = runner.explain(runner.points_statements(boxes[args.warmup]))

    result = {
        "db": bench.kind,
        "reports": bench.reports,
        "report_cells": bench.meta.get("cells"),
        "seed": bench.seed,
        "end": bench.end.isoformat(),
        "filtered_from": start,
        "requests": args.requests,
        "planner_statistics": has_statistics(bench),
        "analyze_s": analyze_s,
        "warmup": args.warmup,
        "machine": info,
        "loadavg_end": loadavg(),
        "other_processes_end": other_load(),
        "cases": {name: {"params": plans[name][args.warmup], **summarise(case)} for name, case in cases.items()},
        "explain": explains,
    }
    runner.bare.close()
    path = write_results(f"bbox_{bench.kind}_{bench.reports}", result)
    print_report(result)
    print(f"Results in {path}")


def print_report(result: dict[str, Any]) -> None:
    print()
    stats = "with" if result["planner_statistics"] else "without"
    print(f"{result['db']}, {result['reports']:,} reports, {result['requests']} requests per case, {stats} statistics")
    print(
        "| case | mode | app p50 | app p95 | app max | bare p50 | bare p95 | app/bare p50 | app/bare p95 |"
        " size mean | size max | target |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, c in result["cases"].items():
        target = TARGETS_MS[name]
        ok = c["app_ms"]["p95"] <= target and c["size_kb"]["max"] <= TARGET_KB
        modes = ", ".join(f"{k} {v}" for k, v in c["modes"].items())
        print(
            f"| {name} | {modes} | {c['app_ms']['p50']} ms | {c['app_ms']['p95']} ms | {c['app_ms']['max']} ms "
            f"| {c['bare_ms']['p50']} ms | {c['bare_ms']['p95']} ms | {c['ratio_p50']} | {c['ratio_p95']} "
            f"| {c['size_kb']['mean']} KB | {c['size_kb']['max']} KB "
            f"| {'met' if ok else 'MISSED'} (p95 <= {target:g} ms, <= {TARGET_KB:g} KB) |"
        )
    print()
    for name, queries in result["explain"].items():
        for q in queries:
            flags = {k: v for k, v in q.items() if k not in {"query", "sql", "plan"}}
            print(f"--- {name} / {q['query']} {flags}")
            print(q["plan"])
    print(f"load average at the end: {result['loadavg_end']}; busiest processes: {result['other_processes_end']}")


if __name__ == "__main__":
    main()
