"""Concurrent writers: reports written by several processes at once, as busy web workers would.

Usage::

    .venv/bin/python -m bench.writers --db spatialite --writers 1,2,4,8
    .venv/bin/python -m bench.writers --db postgis --writers 1,2,4,8

Each writer is a separate process with its own app and engine. It writes ``--per-writer``
reports, one transaction each, the way a submitted report reaches the database: an INSERT
into reports, then ``app.reports.aggregates.add`` (the upsert of its 8 map cells), then
COMMIT. It records each transaction's latency and every error (on SQLite, "database is
locked" once busy_timeout's 5 s run out). The database is a separate, smaller one
(``tellus_bench_writers_<N>``; default 20,000 reports loaded through the bulk path first),
so the 1M databases of bench.bbox are left as they are.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import random
import statistics
import time
from typing import Any

import sqlalchemy as sa

from bench.bbox import pct
from bench.common import add_arguments, ensure_populated, kb, loadavg, machine, open_database, write_results

# Far enough into the future that no demo report shares a month with these.
WRITE_TIME = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def _writer(url: str, worker: int, count: int, seed: int, start_at: float) -> dict[str, Any]:
    from app.extensions import db
    from app.reports import aggregates
    from app.reports.models import Category, Report, ReportStatus
    from bench.common import build_app

    app = build_app(url)
    rng = random.Random(seed * 1000 + worker)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    with app.app_context():
        session = db.session
        places = session.execute(sa.text("SELECT lon, lat, ward_code FROM postcodes ORDER BY postcode")).all()
        categories = list(session.scalars(sa.select(Category.id).where(Category.active, ~Category.sensitive)))
        session.rollback()
        while time.time() < start_at:
            time.sleep(0.001)
        started = time.perf_counter()
        for i in range(count):
            lon, lat, ward = rng.choice(places)
            lon += rng.uniform(-0.0004, 0.0004)
            lat += rng.uniform(-0.00025, 0.00025)
            point = f"SRID=4326;POINT({lon!r} {lat!r})"
            row = {
                "category_id": rng.choice(categories),
                "status": ReportStatus.NEW,
                "title": f"Concurrent write {worker}-{i}",
                "description": "Written by bench.writers.",
                "lon": lon,
                "lat": lat,
                "geom": point,
                "public_lon": lon,
                "public_lat": lat,
                "public_geom": point,
                "ward_code": ward,
                "ward_vintage": "",
                "reporter_email": "bench@example.org",
                "source": "bench",
                "published_at": WRITE_TIME,
                "created_at": WRITE_TIME,
                "updated_at": WRITE_TIME,
            }
            report = Report(**{k: v for k, v in row.items() if k not in {"geom", "public_geom"}})
            began = time.perf_counter()
            try:
                session.execute(sa.insert(Report), [row])
                aggregates.add(session, [report])
                session.commit()
            except sa.exc.OperationalError as exc:
                session.rollback()
                statement = " ".join((exc.statement or "").split()[:3])
                name = getattr(exc.orig, "sqlite_errorname", "")
                message = f"{str(exc.orig).splitlines()[0][:60]} {name} (at {statement} ...)"
                errors[message] = errors.get(message, 0) + 1
                continue
            latencies.append(time.perf_counter() - began)
        wall = time.perf_counter() - started
    return {"latencies": latencies, "errors": errors, "wall_s": wall}


def run_level(url: str, writers: int, per_writer: int, seed: int) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    start_at = time.time() + 3.0 + 0.5 * writers  # time for every process to import and connect
    with ctx.Pool(writers) as pool:
        results = pool.starmap(_writer, [(url, w, per_writer, seed, start_at) for w in range(writers)])
    latencies = [x * 1000 for r in results for x in r["latencies"]]
    errors: dict[str, int] = {}
    for r in results:
        for message, n in r["errors"].items():
            errors[message] = errors.get(message, 0) + n
    wall = max(r["wall_s"] for r in results)
    return {
        "writers": writers,
        "attempted": writers * per_writer,
        "committed": len(latencies),
        "failed": sum(errors.values()),
        "errors": errors,
        "wall_s": round(wall, 2),
        "commits_per_s": round(len(latencies) / wall, 1) if wall else None,
        "latency_ms": {
            "p50": round(pct(latencies, 0.5), 1) if latencies else None,
            "p95": round(pct(latencies, 0.95), 1) if latencies else None,
            "max": round(max(latencies), 1) if latencies else None,
            "mean": round(statistics.fmean(latencies), 1) if latencies else None,
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser, default_reports=20_000)
    parser.add_argument("--writers", default="1,2,4,8", help="numbers of concurrent writers (default %(default)s)")
    parser.add_argument("--per-writer", type=int, default=200, help="reports per writer (default %(default)s)")
    args = parser.parse_args(argv)
    bench, populated = open_database(args, label="writers")
    ensure_populated(bench, populated, batch=args.batch)
    info = machine(bench)
    levels = []
    for writers in (int(w) for w in args.writers.split(",")):
        level = run_level(bench.url, writers, args.per_writer, args.seed)
        levels.append(level)
        lat = level["latency_ms"]
        print(
            f"  {writers} writers: {level['committed']}/{level['attempted']} committed, "
            f"{level['commits_per_s']} commits/s, latency p50 {lat['p50']} ms, p95 {lat['p95']} ms, "
            f"max {lat['max']} ms, failed {level['failed']} {level['errors'] or ''}",
            flush=True,
        )
    result = {
        "db": bench.kind,
        "reports_before": bench.reports,
        "per_writer": args.per_writer,
        "machine": info,
        "loadavg_end": loadavg(),
        "size_kb_end": {k: kb(v) for k, v in bench.size_bytes().items()},
        "levels": levels,
    }
    path = write_results(f"writers_{bench.kind}", result)
    print(f"Results in {path}")


if __name__ == "__main__":
    main()
