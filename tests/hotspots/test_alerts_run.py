"""The ``hotspot_alerts`` job end to end: the real analysis over hex counts finds a planted rise
and hotspot, records them, emails the subscriber once, keeps them while they last and ends
them when they are gone; two workers racing send nothing twice; and after a demo load the
next pass of the worker emails the demo ward officer, once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.coordination import jobs
from app.coordination.working_time import LONDON
from app.db import utcnow
from app.extensions import db
from app.hotspots import analysis
from app.hotspots.alerts import KIND, deliver, run_alerts
from app.hotspots.findings import find_candidates, record_findings
from app.hotspots.models import WARD_RESOLUTION, AlertDelivery, AlertSubscription, Finding, FindingKind, HexCount
from app.mail.models import OutboxEmail
from app.partners.models import WardOfficerWard
from geo import hexes
from tests.conftest import make_test_app, prepare_database
from tests.coordination.test_concurrency import run_together
from tests.dbutil import create_database, drop_database
from tests.hotspots.alerting import emerging
from tests.hotspots.conftest import FOLESHILL, FOLESHILL_POINT, cell9_at
from tests.hotspots.test_alerts import category_id, subscribe

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 25, 2, 0, tzinfo=LONDON).astimezone(UTC)
TODAY = NOW.astimezone(LONDON).date()


def plant_rise(hex_count: Callable[..., HexCount]) -> None:
    """Fly-tipping in one Foleshill cell: 1 report a week for the 12 weeks before the last 4,
    then 8 a week (32 against about 4 expected: Poisson Z ≈ 7.3)."""
    cell = cell9_at(*FOLESHILL_POINT)
    for week in range(16):
        for n in range(8 if week < 4 else 1):
            hex_count(day=TODAY - dt.timedelta(days=7 * week + n % 7), ward=FOLESHILL, cell9=cell)


def plant_cluster(session: Session, hex_count: Callable[..., HexCount]) -> None:
    """Litter, steady over the last 16 weeks: one report in every Foleshill cell, and one a week
    in each of seven touching cells (the cell of the rise and its ring): a hot spot, not a rise."""
    ring = hexes.disk(cell9_at(*FOLESHILL_POINT), 1)
    for n, cell in enumerate(sorted(analysis.study_area(session, [FOLESHILL], WARD_RESOLUTION))):
        hex_count(day=TODAY - dt.timedelta(days=n % 112), ward=FOLESHILL, category="litter", cell9=cell)
    for week in range(16):
        for cell in ring:
            hex_count(day=TODAY - dt.timedelta(days=7 * week + 3), ward=FOLESHILL, category="litter", cell9=cell)


def alert_emails(session: Session) -> list[OutboxEmail]:
    return list(session.scalars(sa.select(OutboxEmail).where(OutboxEmail.kind == KIND).order_by(OutboxEmail.id)))


def test_the_job_finds_a_planted_rise_emails_it_once_keeps_it_and_ends_it(
    db_session: Session, make_user: Callable[..., User], hex_count: Callable[..., HexCount]
) -> None:
    """With a rise and a hot spot planted in the hex counts, does run_alerts record the emerging
    problem (in the analysis' own words) and the hotspot (in plain English), email the ward's
    subscriber once; does a second run keep them and send nothing; and once the counts are
    gone, does a third run end them all?"""
    plant_rise(hex_count)
    plant_cluster(db_session, hex_count)
    officer = make_user(wards=[FOLESHILL])
    subscribe(db_session, officer)
    summary = run_alerts(db_session, now=NOW)
    findings = list(db_session.scalars(sa.select(Finding)))
    rise = next(f for f in findings if f.key == f"emerging:{FOLESHILL}:{category_id(db_session, 'fly-tipping')}")
    assert rise.kind == FindingKind.EMERGING and rise.current == 32 and rise.z >= 3
    assert rise.summary.startswith("Fly-tipping in Foleshill: 32 reports in the last 4 weeks against about 4 expected")
    spot = next(f for f in findings if f.key.startswith(f"hotspot:{FOLESHILL}:{category_id(db_session, 'litter')}:"))
    assert spot.summary.startswith("Litter and overflowing bins hotspot near CV6 ")
    assert f"in Foleshill: {spot.current} reports in the last 12 weeks" in spot.summary and spot.current >= 12
    assert spot.confidence is not None and f"{spot.confidence}% confidence" in spot.summary
    assert all(f.ward_code == FOLESHILL for f in findings)
    assert summary.startswith(f"{len(findings)} new finding(s), 0 still found, 0 ended; queued 1 alert email(s)")
    [email] = alert_emails(db_session)
    assert email.to_address == officer.email and rise.summary in " ".join(email.text_body.split())
    assert db_session.scalar(sa.select(sa.func.count()).select_from(AlertDelivery)) == len(findings)

    again = run_alerts(db_session, now=NOW + dt.timedelta(days=1, minutes=-1))
    assert again == f"0 new finding(s), {len(findings)} still found, 0 ended; queued 0 alert email(s)"
    assert len(alert_emails(db_session)) == 1

    db_session.execute(sa.delete(HexCount))
    gone = run_alerts(db_session, now=NOW + dt.timedelta(days=2))
    assert gone == f"0 new finding(s), 0 still found, {len(findings)} ended; queued 0 alert email(s)"
    assert db_session.scalar(sa.select(sa.func.count()).where(Finding.ended_at.is_(None))) == 0


def test_falls_and_quiet_wards_are_not_findings(db_session: Session, hex_count: Callable[..., HexCount]) -> None:
    """Is a sharp fall (8 a week for 12 weeks, then none) left out, and a steady level too, so
    only rises and hot spots become findings?"""
    cell = cell9_at(*FOLESHILL_POINT)
    for week in range(4, 16):
        for n in range(8):
            hex_count(day=TODAY - dt.timedelta(days=7 * week + n % 7), ward=FOLESHILL, cell9=cell)
    found = find_candidates(db_session, today=TODAY)
    assert not [c for c in found if c.kind == FindingKind.EMERGING]


# --- Two workers at once --------------------------------------------------------------------


@pytest.fixture
def own_app(db_kind: str, tmp_path: Path) -> Iterator[tuple[sa.Engine, int]]:
    """A database of its own (the workers really commit), with a ward officer subscribed to
    Foleshill; yields the engine and the officer's id."""
    url = create_database(db_kind, tmp_path, "alerts")
    app: Flask = make_test_app(url, tmp_path / "uploads")
    prepare_database(app)
    try:
        with app.app_context():
            engine = db.engine
            with Session(engine) as session:
                officer = User(email="officer@example.org", display_name="Officer", password_hash="x")
                session.add(officer)
                session.flush()
                session.add(WardOfficerWard(user_id=officer.id, ward_code=FOLESHILL))
                session.add(AlertSubscription(user_id=officer.id, ward_code=FOLESHILL))
                session.commit()
                officer_id = officer.id
            yield engine, officer_id
    finally:
        with app.app_context():
            db.engine.dispose()
        drop_database(url)


def counts(engine: sa.Engine) -> tuple[int, int, int]:
    with Session(engine) as session:
        return (
            session.scalar(sa.select(sa.func.count()).select_from(Finding)) or 0,
            session.scalar(sa.select(sa.func.count()).select_from(AlertDelivery)) or 0,
            session.scalar(sa.select(sa.func.count()).where(OutboxEmail.kind == KIND)) or 0,
        )


def _lost(outcome: object, db_kind: str) -> bool:
    """On SQLite the second writer may find the database locked: its run is rolled back whole."""
    return db_kind == "spatialite" and isinstance(outcome, OperationalError)


def test_two_workers_recording_the_same_new_finding_at_once_email_it_once(
    own_app: tuple[sa.Engine, int], db_kind: str
) -> None:
    """When two workers, on two real connections released at the same instant, both find the
    same new finding and record and deliver it, is there one finding, one delivery and one
    email (on PostgreSQL the second waits on the open-key index, then keeps the first's row)?"""
    engine, _ = own_app
    now = utcnow()

    def work(key: str, barrier: object) -> int:
        with Session(engine) as session:
            session.execute(sa.select(Finding.id)).all()  # both have read before either writes
            barrier.wait()  # type: ignore[attr-defined]
            changes = record_findings(session, [emerging()], now=now)
            sent = deliver(session, changes.new, now=now)
            session.commit()
            return sent

    outcomes = run_together(work)
    assert sorted(o for o in outcomes.values() if isinstance(o, int)) in ([0, 1], [1]), outcomes
    assert all(isinstance(o, int) or _lost(o, db_kind) for o in outcomes.values()), outcomes
    assert counts(engine) == (1, 1, 1)


def test_two_workers_delivering_the_same_finding_at_once_send_one_email(
    own_app: tuple[sa.Engine, int], db_kind: str
) -> None:
    """When a committed new finding is delivered by two workers at the same instant, does the
    delivery's primary key let exactly one email through?"""
    engine, officer_id = own_app
    now = utcnow()
    with Session(engine) as session:
        finding_id = record_findings(session, [emerging()], now=now).new[0].id
        session.commit()

    def work(key: str, barrier: object) -> int:
        with Session(engine) as session:
            finding = session.get(Finding, finding_id)
            assert finding is not None
            barrier.wait()  # type: ignore[attr-defined]
            sent = deliver(session, [finding], now=now)
            session.commit()
            return sent

    outcomes = run_together(work)
    assert sorted(o for o in outcomes.values() if isinstance(o, int)) in ([0, 1], [1]), outcomes
    assert all(isinstance(o, int) or _lost(o, db_kind) for o in outcomes.values()), outcomes
    assert counts(engine) == (1, 1, 1)
    with Session(engine) as session:
        assert session.scalars(sa.select(AlertDelivery.user_id)).all() == [officer_id]


# --- The demo ---------------------------------------------------------------------------------


def test_after_a_demo_load_the_next_worker_pass_emails_the_demo_ward_officer_once(
    app: Flask, db_session: Session
) -> None:
    """After `flask demo load` (demo mode), is the demo ward officer watching their wards and
    the alerts job due, does the next pass of the due jobs queue one alert email to them that
    names the planted problems, and does neither a later pass nor a forced run send another?"""
    from app.partners.demo import address
    from app.reports.demo import planted_problems

    result = app.test_cli_runner().invoke(args=["demo", "load", "--reports", "5000"])
    assert result.exit_code == 0, result.output
    assert "ward alert subscription(s) for the demo ward officers" in result.output
    officer = db_session.scalar(sa.select(User).where(User.email == address("daniel.okafor")))
    assert officer is not None
    plan = planted_problems(db_session)
    watched = set(
        db_session.scalars(sa.select(AlertSubscription.ward_code).where(AlertSubscription.user_id == officer.id))
    )
    assert {plan.cluster_ward, plan.trend_ward} <= watched

    results = {r.name: r for r in jobs.run_due(db_session)}
    assert results["hotspot_alerts"].ok, results["hotspot_alerts"]
    mine = [e for e in alert_emails(db_session) if e.to_address == officer.email]
    assert len(mine) == 1, results["hotspot_alerts"]
    text = " ".join(mine[0].text_body.split())
    theirs = db_session.scalars(sa.select(Finding).where(Finding.ward_code.in_(watched))).all()
    assert theirs and all(f.summary in text for f in theirs)
    assert f"{plan.cluster_category.capitalize()} hotspot near" in text and "in Foleshill" in text  # planted
    assert f"{plan.trend_category.capitalize()} in Longford: " in text  # the planted emerging problem

    assert "hotspot_alerts" not in {r.name for r in jobs.run_due(db_session)}
    forced = jobs.run_job(db_session, jobs.JOBS["hotspot_alerts"], force=True)
    assert forced is not None and forced.ok and "queued 0 alert email(s)" in forced.summary
    assert len([e for e in alert_emails(db_session) if e.to_address == officer.email]) == 1
