"""Shared set-up for the benchmarks: a fresh (or reused) database, migrated, with geography.

Each benchmark database is named after its size, so runs at different sizes do not clash:

- SpatiaLite: ``bench/results/tellus_bench_<N>.db`` (bench/results/ is gitignored);
- PostGIS: database ``tellus_bench_<N>`` on ``--pg-url`` (default 127.0.0.1:5432, user postgres).

After a successful load, ``bench/results/tellus_bench_<N>_<kind>.meta.json`` records how the
data were generated; ``--keep`` reuses the database only if that record and the report
count match, and otherwise rebuilds it from scratch.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

os.environ.setdefault("SPATIALITE_LIBRARY_PATH", "mod_spatialite")

from app import create_app
from app.extensions import db
from app.geography.services import load_reference_data
from app.hotspots.models import HexCount
from app.reports.demo import generate
from app.reports.models import Report, ReportCell
from config import Config

REPO = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO / "bench" / "results"
GEO_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "coventry"
DEFAULT_PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432")
# A fixed end date keeps the data identical from one day to the next (same seed, same rows).
DEFAULT_END = "2026-11-25T00:00:00+00:00"
DEFAULT_SEED = 2026


def add_arguments(parser: argparse.ArgumentParser, *, default_reports: int = 1_000_000) -> None:
    parser.add_argument("--db", choices=["spatialite", "postgis"], default="spatialite", help="database to measure")
    parser.add_argument(
        "--reports", type=int, default=default_reports, help="number of demo reports (default %(default)s)"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="reuse the database if it already holds these reports (same N, seed and end); otherwise rebuild it",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="demo data seed (default %(default)s)")
    parser.add_argument(
        "--end", default=DEFAULT_END, help="newest report time, ISO 8601 with offset (default %(default)s)"
    )
    parser.add_argument("--batch", type=int, default=None, help="batch size for the bulk path (default: demo's own)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL server URL without a database name")


@dataclass
class BenchDB:
    """One benchmark database and the Flask app bound to it."""

    kind: str
    reports: int
    seed: int
    end: dt.datetime
    url: str
    app: Flask
    meta_path: Path
    sqlite_path: Path | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def engine(self) -> sa.Engine:
        with self.app.app_context():
            engine = db.engine
        assert engine is not None
        return engine

    def report_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(sa.select(sa.func.count()).select_from(Report)) or 0)

    def cell_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(sa.select(sa.func.count()).select_from(ReportCell)) or 0)

    def hex_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(sa.select(sa.func.count()).select_from(HexCount)) or 0)

    def size_bytes(self) -> dict[str, int]:
        """The database's size on disk (after a WAL checkpoint on SpatiaLite)."""
        with self.engine.connect() as conn:
            if self.kind == "postgis":
                return {
                    "database": int(conn.scalar(sa.text("SELECT pg_database_size(current_database())"))),
                    "reports": int(conn.scalar(sa.text("SELECT pg_total_relation_size('reports')"))),
                    "report_cells": int(conn.scalar(sa.text("SELECT pg_total_relation_size('report_cells')"))),
                    "hex_counts": int(conn.scalar(sa.text("SELECT pg_total_relation_size('hex_counts')"))),
                }
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        assert self.sqlite_path is not None
        sizes = {"database": self.sqlite_path.stat().st_size}
        wal = self.sqlite_path.with_name(self.sqlite_path.name + "-wal")
        if wal.exists():
            sizes["wal"] = wal.stat().st_size
        return sizes


def _names(kind: str, reports: int, pg_url: str, label: str) -> tuple[str, Path | None, Path]:
    name = f"tellus_bench_{label}_{reports}" if label else f"tellus_bench_{reports}"
    meta = RESULTS_DIR / f"{name}_{kind}.meta.json"
    if kind == "spatialite":
        path = RESULTS_DIR / f"{name}.db"
        return f"sqlite:///{path}", path, meta
    return f"{pg_url}/{name}", None, meta


def _pg_admin(pg_url: str) -> psycopg.Connection[Any]:
    return psycopg.connect(f"{pg_url}/postgres", autocommit=True)


def _database_exists(kind: str, url: str, sqlite_path: Path | None, pg_url: str) -> bool:
    if kind == "spatialite":
        assert sqlite_path is not None
        return sqlite_path.exists()
    name = url.rsplit("/", 1)[1]
    with _pg_admin(pg_url) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def _drop_and_create(kind: str, url: str, sqlite_path: Path | None, pg_url: str) -> None:
    if kind == "spatialite":
        assert sqlite_path is not None
        for suffix in ("", "-wal", "-shm", "-journal"):
            sqlite_path.with_name(sqlite_path.name + suffix).unlink(missing_ok=True)
        return
    name = url.rsplit("/", 1)[1]
    with _pg_admin(pg_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def build_app(url: str) -> Flask:
    """The app as production builds it, bound to ``url`` (no tile layer, uploads under results)."""
    config = Config.from_env(
        DATABASE_URL=url,
        UPLOAD_DIR=RESULTS_DIR / "uploads",
        GEO_DATA_DIR=GEO_DATA_DIR,
        TILE_URL="",
        ENV="benchmark",
    )
    return create_app(config)


def open_database(args: argparse.Namespace, *, label: str = "") -> tuple[BenchDB, bool]:
    """Create (or, with ``--keep``, reuse) the database for ``args`` (``label`` goes in its name).

    Returns the database and whether it is already populated. A new database is migrated to
    head and has the reference geography loaded, but no reports yet.
    """
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    kind, reports = args.db, args.reports
    end = dt.datetime.fromisoformat(args.end).astimezone(dt.UTC)
    url, sqlite_path, meta_path = _names(kind, reports, args.pg_url, label)
    wanted = {"kind": kind, "reports": reports, "seed": args.seed, "end": end.isoformat()}
    reuse = False
    meta: dict[str, Any] = {}
    if args.keep and meta_path.exists() and _database_exists(kind, url, sqlite_path, args.pg_url):
        meta = json.loads(meta_path.read_text())
        reuse = all(meta.get(k) == v for k, v in wanted.items())
    if not reuse:
        meta_path.unlink(missing_ok=True)
        _drop_and_create(kind, url, sqlite_path, args.pg_url)
    app = build_app(url)
    bench = BenchDB(kind, reports, args.seed, end, url, app, meta_path, sqlite_path, meta)
    if reuse and bench.report_count() == reports:
        print(f"Reusing {url} ({reports:,} reports); migrating it to head if need be")
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
        return bench, True
    if reuse:
        print(f"{url} does not hold {reports:,} reports: rebuilding it")
        bench.engine.dispose()
        meta_path.unlink(missing_ok=True)
        _drop_and_create(kind, url, sqlite_path, args.pg_url)
    started = time.perf_counter()
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        loaded = load_reference_data(db.session, GEO_DATA_DIR)
        db.session.commit()
        db.session.close()
    print(f"Created {url}: migrated and loaded {loaded} in {time.perf_counter() - started:.1f} s")
    bench.meta = dict(wanted)
    return bench, False


@dataclass
class LoadTimings:
    total_s: float = 0.0
    inserts_s: float = 0.0
    cells_s: float = 0.0  # both rebuilds below
    map_cells_s: float = 0.0  # report_cells (aggregates.rebuild)
    hex_counts_s: float = 0.0  # hex_counts (app.hotspots.counts.rebuild; H3 cells are set in the insert loop)
    commit_s: float = 0.0
    analyze_s: float = 0.0
    batches: int = 0


def bulk_load(bench: BenchDB, *, batch: int | None = None, progress_every: int = 100_000) -> LoadTimings:
    """Generate ``bench.reports`` demo reports through ``app.reports.demo.generate``.

    The generator yields after each batch of inserts and rebuilds the cell counts after its
    last yield, so the time from the last yield to its end is the cell rebuild (the map's
    cells and the hex counts, which ``generate`` also times apart). ANALYZE
    runs afterwards (timed apart) so the planner sees the new tables, as autovacuum would.
    """
    timings = LoadTimings()
    options: dict[str, Any] = {} if batch is None else {"batch": batch}
    rebuilds: dict[str, float] = {}
    with bench.app.app_context():
        session = db.session
        started = time.perf_counter()
        last = started
        next_report = progress_every
        for done in generate(
            session,
            count=bench.reports,
            seed=bench.seed,
            data_dir=GEO_DATA_DIR,
            end=bench.end,
            timings=rebuilds,
            **options,
        ):
            last = time.perf_counter()
            timings.batches += 1
            if done >= next_report or done == bench.reports:
                rate = done / (last - started)
                print(f"  {done:>10,} reports  {last - started:7.1f} s  {rate:9,.0f} rows/s", flush=True)
                next_report += progress_every
        rebuilt = time.perf_counter()
        timings.inserts_s = last - started
        timings.cells_s = rebuilt - last
        timings.map_cells_s = rebuilds.get("map_cells_s", 0.0)
        timings.hex_counts_s = rebuilds.get("hex_counts_s", 0.0)
        session.commit()
        session.close()
        committed = time.perf_counter()
        timings.commit_s = committed - rebuilt
        timings.total_s = committed - started
    analyze_started = time.perf_counter()
    with bench.engine.connect() as conn:
        if bench.kind == "postgis":
            # What autovacuum does soon after a bulk load: statistics, and the visibility map
            # that index-only scans need.
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM (ANALYZE)")
        # SQLite: nothing. The app never runs ANALYZE there; bench.bbox --analyze does, apart.
    timings.analyze_s = time.perf_counter() - analyze_started
    return timings


def sqlite_analyze(bench: BenchDB) -> float:
    """Run ANALYZE on a SpatiaLite database (the app never does); returns the seconds taken."""
    started = time.perf_counter()
    with bench.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    return time.perf_counter() - started


def has_statistics(bench: BenchDB) -> bool:
    """Whether the query planner has table statistics (sqlite_stat1 on SQLite; always on PostgreSQL)."""
    if bench.kind == "postgis":
        return True
    with bench.engine.connect() as conn:
        found = conn.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").scalar()
    return bool(found)


def save_meta(bench: BenchDB, extra: dict[str, Any]) -> None:
    bench.meta.update(extra)
    bench.meta_path.write_text(json.dumps(bench.meta, indent=2, default=str))


def ensure_populated(bench: BenchDB, populated: bool, *, batch: int | None = None) -> None:
    """Load the demo reports unless the database already holds them."""
    if populated:
        return
    print(f"Loading {bench.reports:,} reports through the bulk path ...", flush=True)
    timings = bulk_load(bench, batch=batch)
    save_meta(bench, {"load": timings.__dict__, "cells": bench.cell_count(), "size": bench.size_bytes()})


# --- The machine and its load --------------------------------------------------------------------


def _first(path: str, key: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def loadavg() -> tuple[float, float, float]:
    one, five, fifteen = os.getloadavg()
    return round(one, 2), round(five, 2), round(fifteen, 2)


def machine(bench: BenchDB) -> dict[str, Any]:
    """Hardware and software versions, for the results file."""
    info: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "memory": _first("/proc/meminfo", "MemTotal"),
        "cpu": _first("/proc/cpuinfo", "model name"),
        "python": platform.python_version(),
        "sqlalchemy": sa.__version__,
        "loadavg_start": loadavg(),
    }
    with bench.engine.connect() as conn:
        if bench.kind == "postgis":
            info["postgresql"] = conn.scalar(sa.text("SHOW server_version"))
            info["postgis"] = conn.scalar(sa.text("SELECT postgis_lib_version()"))
            for setting in ("shared_buffers", "work_mem", "max_parallel_workers_per_gather", "jit"):
                info[setting] = conn.scalar(sa.text(f"SHOW {setting}"))
        else:
            info["sqlite"] = conn.scalar(sa.text("SELECT sqlite_version()"))
            info["spatialite"] = conn.scalar(sa.text("SELECT spatialite_version()"))
            info["python_sqlite3_stdlib"] = sqlite3.sqlite_version
    return info


@contextmanager
def timed() -> Iterator[list[float]]:
    """``with timed() as t: ...`` then ``t[0]`` is the elapsed time in seconds."""
    out: list[float] = []
    started = time.perf_counter()
    try:
        yield out
    finally:
        out.append(time.perf_counter() - started)


def other_load() -> str:
    """The busiest other processes right now, to note CPU contention next to the figures."""
    try:
        ps = subprocess.run(
            ["ps", "-eo", "pcpu,comm", "--sort=-pcpu", "--no-headers"],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return "?"
    top = [" ".join(line.split()) for line in ps.stdout.splitlines()[:5]]
    return "; ".join(top)


def write_results(name: str, data: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str))
    return path


def kb(n: float) -> float:
    return round(n / 1024, 1)


def mb(n: float) -> float:
    return round(n / 1024 / 1024, 1)
