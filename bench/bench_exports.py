"""Stream the dashboard's exports of 1,000,000 reports (CSV and GeoJSON) through the app and
record the time and the memory they take; and the hotspot layer's exports.

Usage::

    .venv/bin/python -m bench.bench_exports --db postgis --reports 1000000 --keep
    .venv/bin/python -m bench.bench_exports --db spatialite --reports 1000000 --keep

The database is this benchmark's own, ``tellus_bench_exports_<N>`` (``bench.common``), filled
by the bulk path the other benchmarks use (``bench.common.bulk_load``, as ``bench.bulk_load``
runs it). The demo reports span two years and the dashboard's longest period is 12 months, so
the benchmark adds a period "all" covering every report (to this process's copy of
``app.hotspots.filters.PERIODS`` only) to export all of them; "12m" is the longest a user
can choose.

The database is loaded, and each case run, in a child process of its own, so that a case's
memory figures are its alone. In it, signed in as a council administrator (exact locations and
full text for every report, the largest output), the export is downloaded through
``app.test_client()`` twice, each chunk counted and dropped as a client would:

1. timed, with the resident memory just before and its peak during the download (``VmHWM``,
   reset just before with ``/proc/self/clear_refs``, so start-up cannot hide it; ``ru_maxrss``
   is recorded too, but after ``exec`` Linux starts it from the parent's resident memory), the
   time to the first chunk, and (unless ``--no-writer``) a second connection that commits a
   one-row update every 0.5 s meanwhile, to show whether the export blocks writers;
2. under ``tracemalloc`` for the peak of Python allocations (slower: not timed).

Results go to ``bench/results/exports_<db>_<N>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa

from app.accounts.models import User
from app.accounts.sessions import start_session
from app.db import make_engine, utcnow
from app.extensions import db
from app.hotspots import filters as dashboard_filters
from app.reports.models import Report
from bench.common import (
    BenchDB,
    _names,
    add_arguments,
    build_app,
    ensure_populated,
    loadavg,
    machine,
    mb,
    open_database,
    other_load,
    write_results,
)

CASES = {
    "reports-csv-all": ("reports", "csv", "all"),
    "reports-geojson-all": ("reports", "geojson", "all"),
    "reports-csv-12m": ("reports", "csv", "12m"),
    "hotspots-csv-12m": ("hotspots", "csv", "12m"),
    "hotspots-geojson-12m": ("hotspots", "geojson", "12m"),
}
ADMIN_EMAIL = "bench-exports-admin@example.org"


def maxrss_mb() -> float:
    """``ru_maxrss`` in MB. After ``exec`` Linux starts it from the parent's resident memory at
    the fork, so it is recorded but ``VmHWM`` is the figure to read."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _status_mb(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def rss_mb() -> float:
    """The process's resident memory now, in MB (``VmRSS``)."""
    return _status_mb("VmRSS")


def hwm_mb() -> float:
    """The process's peak resident memory since the last ``reset_peak``, in MB (``VmHWM``)."""
    return _status_mb("VmHWM")


def reset_peak() -> bool:
    """Start ``ru_maxrss`` again from the memory in use now (Linux 4.0+: ``clear_refs`` 5), so
    that start-up (imports, migrations) cannot hide what the export itself needs."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def add_all_period(bench: BenchDB) -> None:
    """A period "all" from the oldest report to today, in this process only."""
    with bench.engine.connect() as conn:
        oldest = conn.scalar(sa.select(sa.func.min(Report.created_at)))
    assert oldest is not None
    if isinstance(oldest, str):  # SQLite without the column's type processing
        oldest = dt.datetime.fromisoformat(oldest)
    days = (dashboard_filters.today() - oldest.date()).days + 2
    dashboard_filters.PERIODS["all"] = ("Every report (benchmark only)", days)


def signed_in_client(bench: BenchDB) -> Any:
    """A test client signed in as a council administrator (created on first use)."""
    client = bench.app.test_client()
    with bench.app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == ADMIN_EMAIL))
        if user is None:
            user = User(
                email=ADMIN_EMAIL,
                display_name="Benchmark administrator",
                password_hash="!",  # noqa: S106  (no password: the benchmark signs in by session)
                email_verified_at=utcnow(),
                is_admin=True,
            )
            db.session.add(user)
            db.session.flush()
        raw = start_session(db.session, user, ip="127.0.0.1", user_agent="bench", second_factor=True)
        user_id = user.id
        db.session.commit()
    with client.session_transaction() as session:
        session["sid"] = raw
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
    return client


class Writer(threading.Thread):
    """Commits a one-row update every ``interval`` seconds on its own connection, recording how
    long each took, until stopped."""

    def __init__(self, bench: BenchDB, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        # An engine of its own, set up as the app's (SpatiaLite loaded, WAL, a 5 s busy timeout):
        # a SQLite connection may be used only by the thread that made it.
        self.engine = make_engine(bench.url)
        self.interval = interval
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with self.engine.connect() as conn:
            target = conn.scalar(sa.select(sa.func.max(Report.id)))
            conn.rollback()
            while not self.stop.wait(self.interval):
                started = time.perf_counter()
                try:
                    with conn.begin():
                        conn.execute(
                            sa.update(Report.__table__)
                            .where(Report.__table__.c.id == target)
                            .values(updated_at=Report.__table__.c.updated_at)
                        )
                    self.latencies.append(time.perf_counter() - started)
                except sa.exc.OperationalError as exc:
                    self.errors.append(str(exc).splitlines()[0])


def download(client: Any, url: str, kind: str) -> dict[str, Any]:
    """Stream ``url`` chunk by chunk without keeping it; returns times, size and rows."""
    marker = b"\r\n" if kind == "csv" else b'{"type":"Feature",'
    started = time.perf_counter()
    response = client.get(url, buffered=False)
    assert response.status_code == 200, response.status_code
    first: float | None = None
    size = rows = chunks = 0
    for chunk in response.iter_encoded():
        if first is None:
            first = time.perf_counter() - started
        size += len(chunk)
        rows += chunk.count(marker)
        chunks += 1
    response.close()
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "first_chunk_ms": round((first or 0) * 1000, 1),
        "bytes": size,
        "mb": mb(size),
        "rows": rows - 1 if kind == "csv" else rows,  # the CSV's header line
        "chunks": chunks,
    }


def existing_database(args: argparse.Namespace) -> BenchDB:
    """The database the load step filled, as it is (a case never rebuilds it). Raises SystemExit
    if it holds fewer than ``args.reports`` reports. (It may hold more: at 1M, a database loaded
    before ``app.reports.demo.generate``'s planted reports were fixed holds 17,200 more; the
    results record how many there are.)"""
    url, sqlite_path, meta_path = _names(args.db, args.reports, args.pg_url, "exports")
    end = dt.datetime.fromisoformat(args.end).astimezone(dt.UTC)
    bench = BenchDB(args.db, args.reports, args.seed, end, url, build_app(url), meta_path, sqlite_path)
    found = bench.report_count()
    if found < args.reports:
        raise SystemExit(f"{url} holds {found:,} reports, fewer than {args.reports:,}")
    return bench


def _loaded_already(args: argparse.Namespace) -> bool:
    """With ``--keep``: whether this benchmark's database was loaded before with the same data
    settings (its record says so and it holds at least the reports asked for)."""
    _, sqlite_path, meta_path = _names(args.db, args.reports, args.pg_url, "exports")
    if not args.keep or not meta_path.exists() or (sqlite_path is not None and not sqlite_path.exists()):
        return False
    meta = json.loads(meta_path.read_text())
    end = dt.datetime.fromisoformat(args.end).astimezone(dt.UTC).isoformat()
    if (meta.get("kind"), meta.get("reports"), meta.get("seed"), meta.get("end")) != (
        args.db,
        args.reports,
        args.seed,
        end,
    ) or "load" not in meta:
        return False
    try:
        existing_database(args).engine.dispose()
    except (SystemExit, sa.exc.OperationalError):
        return False
    return True


def run_case(args: argparse.Namespace, name: str) -> dict[str, Any]:
    """One case, in this (child) process."""
    subject, fmt, period = CASES[name]
    bench = existing_database(args)
    add_all_period(bench)
    client = signed_in_client(bench)
    url = f"/dashboard/export/{subject}.{fmt}?{urlencode({'period': period})}"
    warm = f"/dashboard/export/{subject}.{fmt}?{urlencode({'period': '4w', 'ward': 'E05001228'})}"
    download(client, warm, fmt)
    reset = reset_peak()
    before = rss_mb()
    maxrss_before = maxrss_mb()
    writer = Writer(bench) if args.writer and subject == "reports" else None
    if writer:
        writer.start()
    timed = download(client, url, fmt)
    if writer:
        writer.stop.set()
        writer.join()
    after = hwm_mb()
    result: dict[str, Any] = {
        "case": name,
        "url": url,
        **timed,
        "rows_per_s": round(timed["rows"] / timed["seconds"]) if timed["seconds"] else None,
        "peak_reset": reset,
        "rss_before_mb": before,
        "peak_rss_mb": after,
        "peak_rise_mb": round(after - before, 1),
        "ru_maxrss_before_mb": maxrss_before,
        "ru_maxrss_after_mb": maxrss_mb(),
    }
    if writer:
        lat = sorted(writer.latencies)
        result["writer"] = {
            "commits": len(lat),
            "max_ms": round(lat[-1] * 1000, 1) if lat else None,
            "median_ms": round(lat[len(lat) // 2] * 1000, 1) if lat else None,
            "errors": writer.errors[:3],
        }
    if not args.no_tracemalloc:
        tracemalloc.start()
        traced = download(client, url, fmt)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        result["tracemalloc_peak_mb"] = mb(peak)
        result["tracemalloc_rows"] = traced["rows"]
    return result


def run_child(args: argparse.Namespace, only: str, *, stream: bool = False) -> dict[str, Any]:
    """Run this script for one step (``load`` or a case) in a process of its own and return the
    result it prints. Raises SystemExit if it fails."""
    command = [sys.executable, "-m", "bench.bench_exports", "--db", args.db, "--reports", str(args.reports)]
    command += ["--seed", str(args.seed), "--end", args.end, "--pg-url", args.pg_url, "--only", only]
    if args.keep:
        command.append("--keep")
    if args.batch:
        command += ["--batch", str(args.batch)]
    command += ["--no-tracemalloc"] * args.no_tracemalloc + ["--no-writer"] * (not args.writer)
    # The same script with the arguments it was given.
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # noqa: S603
    assert child.stdout is not None
    result: dict[str, Any] | None = None
    tail: list[str] = []
    for line in child.stdout:
        if line.startswith("RESULT "):
            result = json.loads(line.removeprefix("RESULT "))
        elif stream:
            print(line, end="", flush=True)
        else:
            tail = [*tail[-40:], line]
    if child.wait() != 0 or result is None:
        print("".join(tail))
        raise SystemExit(f"{only} failed")
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated (default: all)")
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the tracemalloc runs")
    parser.add_argument("--no-writer", dest="writer", action="store_false", help="no concurrent writer")
    parser.add_argument("--only", help=argparse.SUPPRESS)  # a child process runs one case
    args = parser.parse_args(argv)
    if args.only == "load":
        bench, populated = open_database(args, label="exports")
        ensure_populated(bench, populated, batch=args.batch)
        print(f"RESULT {json.dumps({'reports': bench.report_count()})}", flush=True)
        return
    if args.only:
        print("RESULT " + json.dumps(run_case(args, args.only)), flush=True)
        return

    # Loading happens in a child too: a case's process inherits its parent's resident memory
    # in ru_maxrss, so the parent stays small.
    if not _loaded_already(args):
        loaded = run_child(args, "load", stream=True)
        print(f"The database holds {loaded['reports']:,} reports", flush=True)
    bench = existing_database(args)
    info = machine(bench)
    bench.engine.dispose()
    wanted = [c.strip() for c in args.cases.split(",") if c.strip()]
    results = []
    for name in wanted:
        print(f"{name} on {bench.kind} ({bench.reports:,} reports), load {loadavg()} ...", flush=True)
        found = run_child(args, name)
        found["loadavg_after"] = loadavg()
        results.append(found)
        print("  " + json.dumps({k: v for k, v in found.items() if k != "url"}), flush=True)
    result = {
        "db": bench.kind,
        "reports": bench.reports,
        "reports_held": bench.report_count(),
        "machine": info,
        "loadavg_end": loadavg(),
        "other_processes_end": other_load(),
        "cases": results,
    }
    path = write_results(f"exports_{bench.kind}_{bench.reports}", result)
    print_report(result)
    print(f"Results in {path}")


def print_report(result: dict[str, Any]) -> None:
    print()
    print(f"{result['db']}, {result['reports']:,} reports asked for, {result['reports_held']:,} held")
    print(
        "| case | rows | size | time | rows/s | first chunk | peak RSS rise (RSS before → peak) "
        "| tracemalloc peak | writer commits (max) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for c in result["cases"]:
        writer = c.get("writer")
        wrote = f"{writer['commits']} ({writer['max_ms']} ms)" if writer else "–"
        print(
            f"| {c['case']} | {c['rows']:,} | {c['mb']} MB | {c['seconds']} s | {c['rows_per_s'] or '–'} "
            f"| {c['first_chunk_ms']} ms | {c['peak_rise_mb']} MB ({c['rss_before_mb']} → "
            f"{c['peak_rss_mb']} MB) | {c.get('tracemalloc_peak_mb', '–')} MB | {wrote} |"
        )
    print(f"load average at the end: {result['loadavg_end']}; busiest processes: {result['other_processes_end']}")


if __name__ == "__main__":
    main()
