"""Scheduled jobs: when each is due, claiming a run through JobRun (two real connections: only
one runs), a failing job logged without stopping anything, and the commands that run them."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.coordination import jobs
from app.coordination.jobs import DailyAt, Every, Job, JobResult
from app.coordination.models import CaseEvent, EventKind, JobRun
from app.coordination.working_time import LONDON
from app.db import utcnow
from app.extensions import db
from app.reports.models import Report
from tests.conftest import make_test_app, prepare_database
from tests.coordination.conftest import Partners
from tests.coordination.test_concurrency import run_together
from tests.dbutil import create_database, drop_database

UTC = dt.UTC
MakeReport = Callable[..., Report]


def london(year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    """UK local wall-clock time, as UTC."""
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=LONDON).astimezone(UTC)


def test_every_fifteen_minutes_is_due_fifteen_minutes_after_the_last_run() -> None:
    """Is a job every 15 minutes due at once when it never ran, and again 15 minutes (not 14) later?"""
    schedule = Every(dt.timedelta(minutes=15))
    last = dt.datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    assert schedule.due(None, last)
    assert not schedule.due(last, last + dt.timedelta(minutes=14, seconds=59))
    assert schedule.due(last, last + dt.timedelta(minutes=15))


def test_daily_at_seven_is_due_once_a_day_from_seven_uk_time() -> None:
    """Is the daily 07:00 job not due before 7am, due from 7am (UK time, in summer 06:00 UTC),
    not due again that day once run, and due the next morning?"""
    schedule = DailyAt(dt.time(7))
    assert not schedule.due(None, london(2026, 11, 25, 6, 59))
    assert schedule.due(None, london(2026, 11, 25, 7, 0))
    ran = london(2026, 11, 25, 7, 0, 5)
    assert not schedule.due(ran, london(2026, 11, 25, 23, 59))
    assert not schedule.due(ran, london(2026, 11, 26, 6, 59))
    assert schedule.due(ran, london(2026, 11, 26, 7, 0))
    # A worker that was down at 7am catches up when it starts, once.
    assert schedule.due(london(2026, 11, 24, 7, 0), london(2026, 11, 25, 15, 0))
    # British Summer Time: 7am in London is 6am UTC.
    assert schedule.due(None, dt.datetime(2026, 7, 1, 6, 0, tzinfo=UTC))
    assert not schedule.due(None, dt.datetime(2026, 7, 1, 5, 59, tzinfo=UTC))


def counting_job(name: str, runs: list[str], *, fail: bool = False) -> Job:
    def run(session: Session, now: dt.datetime) -> str:
        runs.append(name)
        if fail:
            session.add(JobRun(name="left-behind", last_run_at=now))  # must be rolled back
            session.flush()
            raise RuntimeError("the job broke")
        return "did it"

    return Job(name, Every(dt.timedelta(minutes=15)), run, "A test job")


def test_a_run_is_claimed_once_per_period(db_session: Session) -> None:
    """Does the first caller claim a due job (and record it), a second in the same period get
    nothing, a forced run always go, and the next period claim again?"""
    runs: list[str] = []
    job = counting_job("test", runs)
    now = utcnow()
    assert jobs.run_job(db_session, job, now=now) == JobResult("test", True, "did it")
    assert jobs.last_run(db_session, "test") == now
    assert jobs.run_job(db_session, job, now=now + dt.timedelta(minutes=5)) is None
    assert jobs.run_job(db_session, job, now=now + dt.timedelta(minutes=6), force=True) is not None
    assert jobs.run_job(db_session, job, now=now + dt.timedelta(minutes=22)) is not None
    assert runs == ["test", "test", "test"]


def test_a_failing_job_is_logged_rolled_back_and_not_retried_until_its_next_period(
    db_session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    """Does a job that raises come back as a failed result (not an exception), with its work
    rolled back, the error logged, and its claim kept so the next pass does not retry it?"""
    runs: list[str] = []
    job = counting_job("broken", runs, fail=True)
    now = utcnow()
    with caplog.at_level(logging.ERROR, logger="app.coordination.jobs"):
        result = jobs.run_job(db_session, job, now=now)
    assert result is not None and not result.ok and "the job broke" in str(result)
    assert "Scheduled job broken failed" in caplog.text
    assert db_session.get(JobRun, "left-behind") is None
    assert jobs.last_run(db_session, "broken") == now
    assert jobs.run_job(db_session, job, now=now + dt.timedelta(minutes=1)) is None
    assert runs == ["broken"]


def test_run_due_escalates_and_sends_the_digest(
    db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Does a pass of the due jobs escalate an overdue report and queue the coordinators'
    digest, and a pass straight after do nothing?"""
    report = make_report(created_at=utcnow() - dt.timedelta(days=10))
    now = utcnow().astimezone(LONDON).replace(hour=8, minute=0).astimezone(UTC)
    results = {r.name: r for r in jobs.run_due(db_session, now=now)}
    assert results["escalation"].summary == "escalated 1 report(s)"
    assert results["coordinator_digest"].summary.startswith("queued ")
    assert report.escalated_at == now
    assert jobs.run_due(db_session, now=now + dt.timedelta(minutes=1)) == []


def test_flask_jobs_run_and_list(app: Flask, db_session: Session, partners: Partners, make_report: MakeReport) -> None:
    """Does `flask jobs run escalation` run it now, `flask jobs run` run what is due, an unknown
    name fail with the choices, and `flask jobs list` show each job and when it last ran?"""
    report = make_report(created_at=utcnow() - dt.timedelta(days=10))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["jobs", "run", "escalation"])
    assert result.exit_code == 0, result.output
    assert "escalation: escalated 1 report(s)" in result.output
    assert report.escalated_at is not None
    again = runner.invoke(args=["jobs", "run", "escalation"])
    assert "escalation: escalated 0 report(s)" in again.output
    unknown = runner.invoke(args=["jobs", "run", "nonsense"])
    assert unknown.exit_code != 0 and "choose from escalation, coordinator_digest" in unknown.output
    listed = runner.invoke(args=["jobs", "list"])
    assert "escalation" in listed.output and "every 15 minutes" in listed.output and "last ran" in listed.output
    assert "daily at 07:00 UK time" in listed.output


def test_the_worker_runs_due_jobs_after_its_mail_pass(
    app: Flask, db_session: Session, partners: Partners, make_report: MakeReport
) -> None:
    """Does `flask worker --once` run the jobs that are due, escalating an overdue report?"""
    report = make_report(created_at=utcnow() - dt.timedelta(days=10))
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "Scheduled job escalation: escalated 1 report(s)" in result.output
    assert report.escalated_at is not None
    assert db_session.scalar(sa.select(sa.func.count()).where(CaseEvent.kind == EventKind.ESCALATED)) == 1


@pytest.fixture
def own_database(db_kind: str, tmp_path: Path) -> Iterator[sa.Engine]:
    """A database of its own: the claims must really commit for other connections to see them."""
    url = create_database(db_kind, tmp_path, "jobs")
    app: Flask = make_test_app(url, tmp_path / "uploads")
    prepare_database(app)
    try:
        with app.app_context():
            yield db.engine
    finally:
        with app.app_context():
            db.engine.dispose()
        drop_database(url)


@pytest.mark.parametrize("first_run", [True, False], ids=["first run (insert)", "later run (update)"])
def test_two_workers_claiming_the_same_run_at_once_only_one_runs_it(
    own_database: sa.Engine, db_kind: str, first_run: bool
) -> None:
    """When two workers, on two real connections released at the same instant, both find a job
    due and claim it, does exactly one run it (on PostgreSQL the other waits on the row and then
    matches nothing; on SQLite it may find the database locked instead)?"""
    engine = own_database
    runs: list[str] = []
    lock = threading.Lock()

    def run(session: Session, now: dt.datetime) -> str:
        with lock:
            runs.append("ran")
        return "ran"

    job = Job("race", Every(dt.timedelta(minutes=15)), run, "A race")
    now = utcnow()
    if not first_run:
        with Session(engine) as session:
            session.add(JobRun(name="race", last_run_at=now - dt.timedelta(hours=1)))
            session.commit()

    def work(key: str, barrier: threading.Barrier) -> bool:
        with Session(engine) as session:
            seen = jobs.last_run(session, "race")  # both read the same last run ...
            barrier.wait()  # ... then both try to move it on at once
            won = jobs.take(session, job, seen=seen, now=now)
            session.commit()
            if won:
                job.run(session, now)
            return won

    outcomes = run_together(work)
    winners = [k for k, v in outcomes.items() if v is True]
    assert len(winners) == 1, outcomes
    loser = outcomes["b" if winners == ["a"] else "a"]
    if db_kind == "postgis":
        assert loser is False, loser
    else:
        assert loser is False or isinstance(loser, OperationalError), loser
    assert runs == ["ran"]
    with Session(engine) as session:
        assert jobs.last_run(session, "race") == now
