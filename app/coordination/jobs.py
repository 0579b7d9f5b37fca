"""Scheduled jobs: escalation every 15 minutes, the coordinators' digest daily at 07:00 UK time,
the ward dashboard's findings and alerts (``hotspot_alerts``) daily at 02:00 UK time and after
bulk changes (``request_run``).

``flask worker`` runs the jobs that are due between its mail passes (``run_due``), and
``flask jobs run [NAME]`` runs one now (or every due one). However many workers run, each job
runs once per period: a worker *claims* a run by moving its ``JobRun.last_run_at`` from the
value it read to now in one conditional UPDATE (``... WHERE name = :name AND last_run_at =
:seen``), and commits that before the job starts. On PostgreSQL a second worker's UPDATE waits
on the row until the first commits, then matches nothing; on SQLite writers take turns. The
first run of a job inserts its row, and a concurrent insert loses on the primary key.

A job that fails is rolled back and logged; the claim stands, so it is tried again next
period rather than on every pass, and the mail worker carries on.

``request_run(session, name)`` makes a job due at the worker's next pass (after a bulk change:
``flask hotspots rebuild``, the demo load, a category becoming sensitive) by moving its last
run back to just before its latest scheduled time. It only flushes, so the request stands or
falls with the change that caused it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

import click
import sqlalchemy as sa
from flask.cli import AppGroup
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.coordination import digest, escalation
from app.coordination.models import JobRun
from app.coordination.working_time import LONDON
from app.db import utcnow
from app.hotspots.alerts import run_alerts

log = logging.getLogger(__name__)


class Schedule:
    """When a job is due, given when it last ran."""

    def due(self, last: dt.datetime | None, now: dt.datetime) -> bool:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def overdue(self, now: dt.datetime) -> dt.datetime:
        """A last-run time that makes the job due at ``now`` (and at any later time)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Every(Schedule):
    """Every ``period``, counted from the last run (at once if it never ran)."""

    period: dt.timedelta

    def due(self, last: dt.datetime | None, now: dt.datetime) -> bool:
        return last is None or now - last >= self.period

    def describe(self) -> str:
        return f"every {int(self.period // dt.timedelta(minutes=1))} minutes"

    def overdue(self, now: dt.datetime) -> dt.datetime:
        return now - self.period


@dataclass(frozen=True)
class DailyAt(Schedule):
    """Once a day at ``at`` UK local time, or as soon after as a worker is running."""

    at: dt.time

    def latest(self, now: dt.datetime) -> dt.datetime:
        """The most recent scheduled instant at or before ``now``."""
        local = now.astimezone(LONDON)
        today = dt.datetime.combine(local.date(), self.at, tzinfo=LONDON)
        if today > local:
            today = dt.datetime.combine(local.date() - dt.timedelta(days=1), self.at, tzinfo=LONDON)
        return today.astimezone(dt.UTC)

    def due(self, last: dt.datetime | None, now: dt.datetime) -> bool:
        latest = self.latest(now)
        if last is None:
            # Never run: the first run waits for today's time, not yesterday's.
            return now.astimezone(LONDON).date() == latest.astimezone(LONDON).date()
        return last < latest

    def describe(self) -> str:
        return f"daily at {self.at:%H:%M} UK time"

    def overdue(self, now: dt.datetime) -> dt.datetime:
        return self.latest(now) - dt.timedelta(seconds=1)


@dataclass(frozen=True)
class Job:
    name: str
    schedule: Schedule
    run: Callable[[Session, dt.datetime], str]  # does the work (flushes only); says what it did
    description: str


def _escalate(session: Session, now: dt.datetime) -> str:
    total = 0
    while True:
        batch = escalation.escalate_overdue(session, now=now)
        total += len(batch)
        if len(batch) < 1000:
            return f"escalated {total} report(s)"


def _digest(session: Session, now: dt.datetime) -> str:
    sent = digest.send_digests(session, now=now)
    return f"queued {sent} digest(s)"


def _hotspot_alerts(session: Session, now: dt.datetime) -> str:
    return run_alerts(session, now=now)


JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job("escalation", Every(dt.timedelta(minutes=15)), _escalate, "Escalate unacknowledged reports past target"),
        Job("coordinator_digest", DailyAt(dt.time(7)), _digest, "Email each coordinator their overdue work"),
        Job(
            "hotspot_alerts",
            DailyAt(dt.time(2)),
            _hotspot_alerts,
            "Record emerging problems and hotspots; email new ones to subscribers",
        ),
    )
}


def last_run(session: Session, name: str) -> dt.datetime | None:
    return session.scalar(sa.select(JobRun.last_run_at).where(JobRun.name == name))


def claim(session: Session, job: Job, *, now: dt.datetime, force: bool = False) -> bool:
    """Claim this period's run of ``job`` if it is due (always with ``force``): True if this
    caller won it and should run it. The caller commits the claim before running the job, so
    that other workers see it."""
    seen = last_run(session, job.name)
    if not force and not job.schedule.due(seen, now):
        return False
    return take(session, job, seen=seen, now=now)


def take(session: Session, job: Job, *, seen: dt.datetime | None, now: dt.datetime) -> bool:
    """Move ``job``'s last run from ``seen`` (what this caller read) to ``now``, if nobody has
    moved it since: True if this caller did. Never run: insert the row (in a SAVEPOINT, so a
    concurrent insert that wins leaves this transaction usable)."""
    if seen is None:
        try:
            with session.begin_nested():
                session.add(JobRun(name=job.name, last_run_at=now))
        except IntegrityError:
            return False  # another worker inserted it first, and runs this period
        return True
    result = session.execute(
        sa.update(JobRun)
        .where(JobRun.name == job.name, JobRun.last_run_at == seen)
        .values(last_run_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def request_run(session: Session, name: str, *, now: dt.datetime | None = None) -> None:
    """Make the job ``name`` due at the worker's next pass (or at ``flask jobs run``), whatever
    its schedule, by moving its last run back to just before its latest scheduled time (adding
    the row if it never ran). A run already due stays due; a run in progress is followed by
    another. Flushes, never commits. Raises KeyError for an unknown job."""
    job = JOBS[name]
    moment = now or utcnow()
    earlier = job.schedule.overdue(moment)
    if last_run(session, name) is None:
        try:
            with session.begin_nested():
                session.add(JobRun(name=name, last_run_at=earlier))
        except IntegrityError:
            pass  # a worker inserted it meanwhile: move it back instead
        else:
            return
    session.execute(
        sa.update(JobRun)
        .where(JobRun.name == name, JobRun.last_run_at > earlier)
        .values(last_run_at=earlier)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class JobResult:
    name: str
    ok: bool
    summary: str

    def __str__(self) -> str:
        return f"{self.name}: {self.summary}" if self.ok else f"{self.name} failed: {self.summary}"


def run_job(session: Session, job: Job, *, now: dt.datetime | None = None, force: bool = False) -> JobResult | None:
    """Claim and run ``job`` if it is due (always with ``force``), committing the claim and
    then the job's work. Returns None if it was not due or another worker has it. A job that
    raises is rolled back and logged, and its result says it failed: it never raises."""
    moment = now or utcnow()
    try:
        won = claim(session, job, now=moment, force=force)
        session.commit()
    except Exception as exc:  # a lost connection, say: the next pass tries again
        session.rollback()
        log.exception("Could not claim scheduled job %s", job.name)
        return JobResult(job.name, False, str(exc) or type(exc).__name__)
    if not won:
        return None
    try:
        summary = job.run(session, moment)
        session.commit()
    except Exception as exc:
        session.rollback()
        log.exception("Scheduled job %s failed", job.name)
        return JobResult(job.name, False, str(exc) or type(exc).__name__)
    return JobResult(job.name, True, summary)


def run_due(session: Session, *, now: dt.datetime | None = None) -> list[JobResult]:
    """Run every job that is due (what ``flask worker`` does between mail passes)."""
    results = [run_job(session, job, now=now) for job in JOBS.values()]
    return [r for r in results if r is not None]


# --- flask jobs ... --------------------------------------------------------------------------

jobs_cli = AppGroup("jobs", help="Scheduled jobs (the worker runs them when due).")


@jobs_cli.command("run")
@click.argument("name", required=False)
def run_command(name: str | None) -> None:
    """Run the job NAME now, whether or not it is due; without NAME, every job that is due."""
    from app.extensions import db

    if name is not None and name not in JOBS:
        raise click.ClickException(f"No job called {name!r}: choose from {', '.join(JOBS)}")
    if name is None:
        results = run_due(db.session)
        if not results:
            click.echo("No job is due")
    else:
        found = run_job(db.session, JOBS[name], force=True)
        results = [found] if found is not None else []
    for result in results:
        click.echo(str(result))
    if any(not r.ok for r in results):
        raise SystemExit(1)


@jobs_cli.command("list")
def list_command() -> None:
    """List the jobs, when each runs and when it last ran."""
    from app.extensions import db

    for job in JOBS.values():
        last = last_run(db.session, job.name)
        when = f"last ran {last.astimezone(LONDON):%Y-%m-%d %H:%M} UK time" if last else "never run"
        click.echo(f"{job.name:<20} {job.schedule.describe():<26} {when}  {job.description}")
