"""Time the partner inbox's first page at 1,000,000 reports, all routed to one organisation,
through the app and as bare SQL; and the inbox map and the performance page on the same data.

Usage::

    .venv/bin/python -m bench.bench_inbox --db postgis --reports 1000000 --keep
    .venv/bin/python -m bench.bench_inbox --db spatialite --reports 1000000 --keep

The database (``tellus_bench_inbox_<N>``) gets the demo reports through the bulk path
(``bench.common``), then ``bench.inbox_data`` adds one organisation that covers every ward and
category, so every published report is routed to it (a ``case_routes`` row each), with leads,
lifecycle times and deadlines, in bulk SQL. ``--keep`` reuses all of it.

Cases, each ``--requests`` times after ``--warmup`` requests, signed in as the organisation's
coordinator (a real server-side session, checked on every request as in production):

- ``sort-<key>``: ``/inbox?org=…&sort=<key>`` for every sort the inbox offers (``oldest`` is
  the default);
- ``ward``: ``/inbox?org=…&ward=<code>``, cycling through the wards;
- ``map``: ``/inbox/map?org=…`` (the first ``MAP_MAX_POINTS`` of the inbox);
- ``performance``: ``/performance?org=…`` over the 90 days before the newest report
  (``--perf-requests`` times).

Each request's SQL is captured and replayed on a plain DBAPI connection straight after it
(``bench.bbox.Bare``), so ``bare`` is the database's share and ``app/bare`` the rest. The
statements of the first measured request of each case are EXPLAINed. Results go to
``bench/results/inbox_<db>_<N>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa

from app.accounts.models import User
from app.accounts.sessions import start_session
from app.coordination import queries
from app.extensions import db
from app.geography.models import Ward
from bench.bbox import Bare, Capture, pct
from bench.common import (
    BenchDB,
    add_arguments,
    ensure_populated,
    has_statistics,
    loadavg,
    machine,
    open_database,
    other_load,
    sqlite_analyze,
    write_results,
)
from bench.inbox_data import ensure_cases

TARGET_MS = 200.0  # the inbox's first page, p95, on PostGIS (issue 5)
# The index the inbox walks in publication order (migration b7c41e2d9a30); ``--without-index``
# drops it for one run, to show what it buys, and puts it back afterwards.
INBOX_INDEX = "ix_reports_published_at"
INBOX_INDEX_SQL = f"CREATE INDEX IF NOT EXISTS {INBOX_INDEX} ON reports (published_at, id)"


@dataclass
class Sample:
    app_s: float
    bare_s: float
    statements: int
    size: int


@dataclass
class Case:
    name: str
    samples: list[Sample] = field(default_factory=list)
    first_statements: list[tuple[str, Any]] = field(default_factory=list)
    url: str = ""


class Runner:
    """Sends requests as the organisation's coordinator and replays their SQL."""

    def __init__(self, bench: BenchDB, user_id: int) -> None:
        self.bench = bench
        self.client = bench.app.test_client()
        self.capture = Capture(bench.engine)
        self.bare = Bare(bench)
        with bench.app.app_context():
            user = db.session.get(User, user_id)
            assert user is not None
            raw = start_session(db.session, user, ip="127.0.0.1", user_agent="bench", second_factor=False)
            db.session.commit()
        with self.client.session_transaction() as session:
            session["sid"] = raw
            session["_user_id"] = str(user_id)
            session["_fresh"] = True

    def measure(self, url: str) -> tuple[Sample, list[tuple[str, Any]]]:
        self.capture.active = True
        started = time.perf_counter()
        response = self.client.get(url)
        elapsed = time.perf_counter() - started
        self.capture.active = False
        statements = self.capture.take()
        if response.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {response.status_code}: {response.get_data(as_text=True)[:300]}")
        bare_s = self.replay(statements)
        return Sample(elapsed, bare_s, len(statements), len(response.data)), statements

    def replay(self, statements: list[tuple[str, Any]]) -> float:
        """Run ``statements`` in order on the bare connection, fetching every row of those that
        return rows (the app's writes, such as the session's last-seen time, are run too);
        returns the seconds taken."""
        cur = self.bare.conn.cursor()
        started = time.perf_counter()
        for statement, parameters in statements:
            cur.execute(statement, parameters)
            if cur.description is not None:
                cur.fetchall()
        elapsed = time.perf_counter() - started
        cur.close()
        return elapsed

    def run_case(self, name: str, urls: list[str], warmup: int) -> Case:
        for url in urls[:warmup]:
            self.measure(url)
        case = Case(name, url=urls[warmup])
        started = time.perf_counter()
        for i, url in enumerate(urls[warmup:]):
            sample, statements = self.measure(url)
            case.samples.append(sample)
            if i == 0:
                case.first_statements = statements
        print(f"  {name}: {len(case.samples)} requests in {time.perf_counter() - started:.1f} s", flush=True)
        return case


def set_index(bench: BenchDB, *, present: bool) -> None:
    """Create (``present``) or drop the inbox's publication-order index, with fresh statistics."""
    started = time.perf_counter()
    with bench.engine.connect() as conn:
        conn.exec_driver_sql(INBOX_INDEX_SQL if present else f"DROP INDEX IF EXISTS {INBOX_INDEX}")
        conn.commit()
        if bench.kind == "postgis":
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE reports")
    print(f"{INBOX_INDEX} {'present' if present else 'dropped'} ({time.perf_counter() - started:.1f} s)")


def summarise(case: Case) -> dict[str, Any]:
    app_ms = [s.app_s * 1000 for s in case.samples]
    bare_ms = [s.bare_s * 1000 for s in case.samples]
    return {
        "url": case.url,
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
        },
        "statements_per_request": sorted({s.statements for s in case.samples}),
        "size_kb": round(statistics.fmean(s.size for s in case.samples) / 1024, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--requests", type=int, default=60, help="measured requests per case (default %(default)s)")
    parser.add_argument("--perf-requests", type=int, default=20, help="for the performance page (default %(default)s)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up requests per case (default %(default)s)")
    parser.add_argument(
        "--other-requests",
        type=int,
        default=None,
        help="for the sorts other than the default and the map (default: --requests)",
    )
    parser.add_argument(
        "--without-index",
        action="store_true",
        help=f"drop {INBOX_INDEX} while measuring (it is put back afterwards), to see what it buys",
    )
    parser.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    parser.add_argument("--analyze", action="store_true", help="SpatiaLite: run ANALYZE first (the app never does)")
    args = parser.parse_args(argv)

    bench, populated = open_database(args, label="inbox")
    ensure_populated(bench, populated, batch=args.batch)
    print("Adding the organisation and its cases (bulk SQL) unless there already ...", flush=True)
    cases_info = ensure_cases(bench)
    print(f"  {cases_info}")
    set_index(bench, present=not args.without_index)
    analyze_s = sqlite_analyze(bench) if args.analyze and bench.kind == "spatialite" else None
    info = machine(bench)
    org = cases_info["organisation_id"]
    runner = Runner(bench, cases_info["user_id"])
    n = args.warmup + args.requests
    with bench.app.app_context():
        wards = list(db.session.scalars(sa.select(Ward.code).order_by(Ward.code)))
    last = bench.end.date()
    first = last - dt.timedelta(days=89)
    period = {
        "from-day": first.day,
        "from-month": first.month,
        "from-year": first.year,
        "to-day": last.day,
        "to-month": last.month,
        "to-year": last.year,
    }
    other = args.warmup + (args.other_requests if args.other_requests is not None else args.requests)
    plans: dict[str, list[str]] = {
        f"sort-{key}": [f"/inbox?{urlencode({'org': org, 'sort': key})}"] * (n if key == "oldest" else other)
        for key in queries.SORTS
    }
    plans["ward"] = [f"/inbox?{urlencode({'org': org, 'ward': wards[i % len(wards)]})}" for i in range(n)]
    plans["map"] = [f"/inbox/map?{urlencode({'org': org})}"] * other
    plans["performance"] = [f"/performance?{urlencode({'org': org, **period})}"] * (args.warmup + args.perf_requests)
    wanted = [c.strip() for c in args.cases.split(",") if c.strip()] or list(plans)
    print(f"Measuring {', '.join(wanted)} on {bench.kind} ({bench.reports:,} reports), load {loadavg()}", flush=True)
    cases = {name: runner.run_case(name, plans[name], args.warmup) for name in wanted}
    explains = {
        name: [
            {"sql": " ".join(sql.split()), "plan": runner.bare.explain(sql, params)}
            for sql, params in case.first_statements
            if "reports" in sql.lower()
        ]
        for name, case in cases.items()
    }
    result = {
        "db": bench.kind,
        "reports": bench.reports,
        "routes": cases_info["routes"],
        "leads": cases_info["leads"],
        "cases_setup_s": cases_info["seconds"],
        "planner_statistics": has_statistics(bench),
        "inbox_index": not args.without_index,
        "analyze_s": analyze_s,
        "machine": info,
        "loadavg_end": loadavg(),
        "other_processes_end": other_load(),
        "cases": {name: summarise(case) for name, case in cases.items()},
        "explain": explains,
    }
    runner.bare.close()
    if args.without_index:
        set_index(bench, present=True)
    suffix = "_without_index" if args.without_index else ""
    path = write_results(f"inbox_{bench.kind}_{bench.reports}{suffix}", result)
    print_report(result)
    print(f"Results in {path}")


def print_report(result: dict[str, Any]) -> None:
    print()
    stats = "with" if result["planner_statistics"] else "without"
    index = "with" if result["inbox_index"] else "without"
    print(
        f"{result['db']}, {result['reports']:,} reports, {result['routes']:,} routes, {stats} statistics, "
        f"{index} {INBOX_INDEX}"
    )
    print("| case | requests | app p50 | app p95 | app max | bare p50 | bare p95 | statements | size |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, c in result["cases"].items():
        a, b = c["app_ms"], c["bare_ms"]
        flag = ""
        if name.startswith(("sort-", "ward")) and result["db"] == "postgis":
            flag = " ✔" if a["p95"] <= TARGET_MS else " ✘"
        print(
            f"| {name} | {c['requests']} | {a['p50']} ms | {a['p95']} ms{flag} | {a['max']} ms | {b['p50']} ms "
            f"| {b['p95']} ms | {', '.join(map(str, c['statements_per_request']))} | {c['size_kb']} KB |"
        )
    print()
    for name, plans in result["explain"].items():
        for q in plans:
            print(f"--- {name}: {q['sql'][:160]}")
            print(q["plan"])
    print(f"load average at the end: {result['loadavg_end']}; busiest processes: {result['other_processes_end']}")


if __name__ == "__main__":
    main()
