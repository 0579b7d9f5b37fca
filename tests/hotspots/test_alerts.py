"""Findings and alert emails (app/hotspots/findings.py, app/hotspots/alerts.py): findings are
created, kept and ended by key; each new finding is emailed once to the subscribers who asked
for it and may still see it, never twice; and the ``hotspot_alerts`` job can be requested
after bulk changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.coordination import jobs
from app.coordination.jobs import JOBS
from app.coordination.models import JobRun
from app.coordination.working_time import LONDON
from app.db import utcnow
from app.hotspots import alerts
from app.hotspots.alerts import deliver
from app.hotspots.findings import record_findings
from app.hotspots.models import AlertDelivery, AlertSubscription, Finding, FindingKind
from app.mail.models import OutboxEmail
from app.partners.models import Organisation, WardOfficerWard
from app.reports.models import Category
from tests.hotspots.alerting import emerging, hotspot
from tests.hotspots.conftest import FOLESHILL, ST_MICHAELS

UTC = dt.UTC
MakeUser = Callable[..., User]


def category_id(session: Session, slug: str) -> int:
    found = session.scalar(sa.select(Category.id).where(Category.slug == slug))
    assert found is not None
    return found


def subscribe(
    session: Session,
    user: User,
    ward: str = FOLESHILL,
    category: int | None = None,
    *,
    emerging: bool = True,
    hotspots: bool = True,
) -> AlertSubscription:
    subscription = AlertSubscription(
        user_id=user.id, ward_code=ward, category_id=category, emerging=emerging, hotspots=hotspots
    )
    session.add(subscription)
    session.flush()
    return subscription


def alert_emails(session: Session, to: str | None = None) -> list[OutboxEmail]:
    query = sa.select(OutboxEmail).where(OutboxEmail.kind == alerts.KIND).order_by(OutboxEmail.id)
    if to is not None:
        query = query.where(OutboxEmail.to_address == to)
    return list(session.scalars(query))


# --- Findings: created, kept, ended ---------------------------------------------------------


def test_findings_are_created_kept_while_found_and_ended_when_gone(db_session: Session) -> None:
    """Does a first run create a finding per key, a later run that finds one again keep the
    same row (only last_found_at moves; what was first found stays), one no longer found get
    ended_at, and one that comes back after ending become a new finding?"""
    litter = category_id(db_session, "litter")
    first = utcnow()
    made = record_findings(db_session, [emerging(), hotspot(category_id=litter)], now=first)
    assert len(made.new) == 2 and not made.kept and not made.ended
    rise, spot = made.new
    assert rise.kind == FindingKind.EMERGING and spot.kind == FindingKind.HOTSPOT
    assert (spot.category_id, spot.confidence, spot.resolution) == (litter, 99, 9)

    later = first + dt.timedelta(days=1)
    again = record_findings(db_session, [emerging(summary="different words the next night")], now=later)
    assert again.kept == [rise] and again.ended == [spot] and not again.new
    assert rise.first_found_at == first and rise.last_found_at == later and rise.ended_at is None
    assert rise.summary.startswith("Reports in") and spot.ended_at == later

    back = record_findings(db_session, [emerging(), hotspot(category_id=litter)], now=later + dt.timedelta(days=1))
    assert back.kept == [rise] and len(back.new) == 1 and back.new[0].id != spot.id
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Finding)) == 3


def test_one_key_found_twice_in_a_run_is_one_finding(db_session: Session) -> None:
    """When the analysis hands over the same key twice (a ward × category found by the city-wide
    and the ward runs), is one finding recorded?"""
    made = record_findings(db_session, [emerging(), emerging()], now=utcnow())
    assert len(made.new) == 1


def test_an_open_key_can_be_open_only_once(db_session: Session) -> None:
    """Does the database refuse a second open finding with the same key (the partial unique
    index record_findings relies on when two runs race), while an ended one may share it?"""
    from sqlalchemy.exc import IntegrityError

    now = utcnow()
    record_findings(db_session, [emerging()], now=now)
    twin = Finding(
        kind=FindingKind.EMERGING, key=emerging().key, ward_code=FOLESHILL, summary="x", current=1, expected=1, z=3
    )
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.add(twin)
    record_findings(db_session, [], now=now)  # ends it
    record_findings(db_session, [emerging()], now=now + dt.timedelta(days=1))
    assert db_session.scalar(sa.select(sa.func.count()).where(Finding.key == emerging().key)) == 2


# --- Alert emails ---------------------------------------------------------------------------


def test_a_new_finding_is_emailed_once_and_never_again(db_session: Session, make_user: MakeUser) -> None:
    """Is a new finding emailed to its subscriber once, with a delivery recorded, and not again
    when the next run finds it still there, nor when delivery is attempted a second time?"""
    officer = make_user(wards=[FOLESHILL])
    subscribe(db_session, officer)
    now = utcnow()
    made = record_findings(db_session, [emerging()], now=now)
    assert deliver(db_session, made.new, now=now) == 1
    [email] = alert_emails(db_session)
    delivery = db_session.scalars(sa.select(AlertDelivery)).one()
    assert (delivery.finding_id, delivery.user_id, delivery.email_id) == (made.new[0].id, officer.id, email.id)

    next_night = record_findings(db_session, [emerging()], now=now + dt.timedelta(days=1))
    assert not next_night.new
    assert deliver(db_session, next_night.new, now=now + dt.timedelta(days=1)) == 0
    assert deliver(db_session, made.new, now=now + dt.timedelta(days=1)) == 0  # the primary key stops it
    assert len(alert_emails(db_session)) == 1
    assert db_session.scalar(sa.select(sa.func.count()).select_from(AlertDelivery)) == 1


def test_the_email_says_what_was_found_with_links_to_the_dashboard_and_the_alerts_page(
    db_session: Session, make_user: MakeUser
) -> None:
    """Does one email list every new finding for its reader, each with its summary and a link
    to the dashboard filtered to its ward and category, plus a link to manage alerts?"""
    officer = make_user(wards=[FOLESHILL], email="officer@example.org", name="Dana Officer")
    subscribe(db_session, officer)
    fly = category_id(db_session, "fly-tipping")
    now = dt.datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    made = record_findings(
        db_session,
        [emerging(category_id=fly, summary="Fly-tipping in Foleshill: 41 reports in the last 4 weeks"), hotspot()],
        now=now,
    )
    assert deliver(db_session, made.new, now=now) == 1
    [email] = alert_emails(db_session, "officer@example.org")
    assert email.subject == "TellUs Coventry: 2 new findings in Foleshill"
    assert "Hello Dana Officer" in email.text_body and "Wednesday 25 November 2026" in email.text_body
    assert "Fly-tipping in Foleshill: 41 reports in the last 4 weeks" in email.text_body
    assert "Emerging problem: Foleshill, fly-tipping" in email.text_body
    assert "New hotspot: Foleshill, all categories" in email.text_body
    lines = email.text_body.splitlines()
    assert f"http://127.0.0.1:5000/dashboard?ward={FOLESHILL}&category=fly-tipping" in lines
    assert f"http://127.0.0.1:5000/dashboard?ward={FOLESHILL}" in lines
    assert "http://127.0.0.1:5000/alerts" in lines
    assert "where people report, not how common" in email.text_body
    assert "Manage your alerts" in email.html_body and "Fly-tipping in Foleshill: 41 reports" in email.html_body


def test_a_single_finding_names_itself_in_the_subject(db_session: Session, make_user: MakeUser) -> None:
    """With one new finding, does the subject say what and where ("Emerging problem in
    Foleshill: fly-tipping")?"""
    officer = make_user(wards=[FOLESHILL])
    subscribe(db_session, officer)
    now = utcnow()
    made = record_findings(db_session, [emerging(category_id=category_id(db_session, "fly-tipping"))], now=now)
    deliver(db_session, made.new, now=now)
    [email] = alert_emails(db_session)
    assert email.subject == "TellUs Coventry: Emerging problem in Foleshill: Fly-tipping"


def test_subscriptions_match_on_ward_category_and_kind(db_session: Session, make_user: MakeUser) -> None:
    """Does each finding go only to subscriptions for its ward, its category or all categories,
    and its kind, and does a finding over all categories go only to all-categories
    subscriptions? Someone matched twice gets it once."""
    fly, litter = category_id(db_session, "fly-tipping"), category_id(db_session, "litter")
    everything = make_user(wards=[FOLESHILL, ST_MICHAELS])
    subscribe(db_session, everything)
    subscribe(db_session, everything, category=fly)  # matched twice for fly-tipping: one delivery
    only_fly = make_user(wards=[FOLESHILL])
    subscribe(db_session, only_fly, category=fly)
    only_hotspots = make_user(wards=[FOLESHILL])
    subscribe(db_session, only_hotspots, emerging=False)
    other_ward = make_user(wards=[FOLESHILL, ST_MICHAELS])
    subscribe(db_session, other_ward, ST_MICHAELS)
    now = utcnow()
    made = record_findings(
        db_session, [emerging(category_id=fly), emerging(category_id=litter), hotspot(category_id=None)], now=now
    )
    deliver(db_session, made.new, now=now)
    got: dict[int, set[str]] = {}
    for finding_id, user_id in db_session.execute(sa.select(AlertDelivery.finding_id, AlertDelivery.user_id)):
        got.setdefault(user_id, set()).add(db_session.get(Finding, finding_id).key)  # type: ignore[union-attr]
    fly_key, litter_key, spot_key = (f.key for f in made.new)
    assert got == {
        everything.id: {fly_key, litter_key, spot_key},
        only_fly.id: {fly_key},
        only_hotspots.id: {spot_key},
    }
    assert len(alert_emails(db_session)) == 3


def test_nobody_is_told_about_a_ward_they_can_no_longer_see(
    db_session: Session, make_user: MakeUser, make_organisation: Callable[..., Organisation]
) -> None:
    """Are people who lost access since subscribing left out at send time: a ward officer taken
    off the ward, a coordinator whose organisation no longer covers it (or was deactivated), a
    deleted account? Those who still may see it get it."""
    fly = category_id(db_session, "fly-tipping")
    keeps = make_user(wards=[FOLESHILL])
    moved = make_user(wards=[FOLESHILL])
    coordinator, deactivated_coordinator = make_user(), make_user()
    organisation = make_organisation(
        members={coordinator: "coordinator"}, wards=[FOLESHILL], categories=["fly-tipping"]
    )
    gone = make_organisation(
        members={deactivated_coordinator: "coordinator"}, wards=[FOLESHILL], categories=["fly-tipping"]
    )
    deleted = make_user(wards=[FOLESHILL])
    for person in (keeps, moved, coordinator, deactivated_coordinator, deleted):
        subscribe(db_session, person, category=fly)
    db_session.execute(sa.delete(WardOfficerWard).where(WardOfficerWard.user_id == moved.id))
    for ward in list(organisation.wards):
        db_session.delete(ward)
    gone.active = False
    deleted.deleted_at = utcnow()
    db_session.flush()
    db_session.expire_all()
    now = utcnow()
    made = record_findings(db_session, [emerging(category_id=fly)], now=now)
    assert deliver(db_session, made.new, now=now) == 1
    assert [e.to_address for e in alert_emails(db_session)] == [keeps.email]


def test_coordinators_hear_only_about_the_categories_they_cover(
    db_session: Session, make_user: MakeUser, make_organisation: Callable[..., Organisation]
) -> None:
    """Does a coordinator subscribed to all categories of a ward their organisation covers for
    fly-tipping only get the fly-tipping finding, not litter, and not a finding over all
    categories (it counts reports they may not see)? An administrator gets all three."""
    fly, litter = category_id(db_session, "fly-tipping"), category_id(db_session, "litter")
    coordinator, admin = make_user(), make_user(admin=True)
    make_organisation(members={coordinator: "coordinator"}, wards=[FOLESHILL], categories=["fly-tipping"])
    subscribe(db_session, coordinator)
    subscribe(db_session, admin)
    now = utcnow()
    made = record_findings(db_session, [emerging(category_id=fly), emerging(category_id=litter), hotspot()], now=now)
    deliver(db_session, made.new, now=now)
    delivered = set(db_session.execute(sa.select(AlertDelivery.user_id, AlertDelivery.finding_id)).tuples())
    ids = [f.id for f in made.new]
    assert delivered == {(coordinator.id, ids[0]), *((admin.id, i) for i in ids)}


def test_an_unusable_address_is_skipped_and_logged(
    db_session: Session, make_user: MakeUser, caplog: pytest.LogCaptureFixture
) -> None:
    """Is someone whose address cannot be used (an anonymised account's) skipped with a log
    line, while the others still get theirs?"""
    broken, fine = make_user(wards=[FOLESHILL]), make_user(wards=[FOLESHILL])
    subscribe(db_session, broken)
    subscribe(db_session, fine)
    broken.email = "not an address"
    db_session.flush()
    now = utcnow()
    made = record_findings(db_session, [emerging()], now=now)
    assert deliver(db_session, made.new, now=now) == 1
    assert "their address cannot be used" in caplog.text
    assert [e.to_address for e in alert_emails(db_session)] == [fine.email]


# --- The job and requesting it ----------------------------------------------------------------


def test_the_alerts_job_is_nightly_at_two() -> None:
    """Is hotspot_alerts a scheduled job, daily at 02:00 UK time?"""
    job = JOBS["hotspot_alerts"]
    assert job.schedule.describe() == "daily at 02:00 UK time"


@pytest.mark.parametrize("name", ["hotspot_alerts", "escalation"])
def test_a_requested_job_is_due_at_the_next_pass_and_then_not_again(db_session: Session, name: str) -> None:
    """After a job has just run (not due), does request_run make it due at once, does running
    it then clear the request, and does a job that never ran become due even before its daily
    time? (For a daily and an every-15-minutes job.)"""
    job = JOBS[name]
    early = dt.datetime(2026, 11, 25, 0, 30, tzinfo=LONDON).astimezone(UTC)  # before 02:00
    if name == "hotspot_alerts":
        assert not job.schedule.due(None, early)  # never ran, but not yet 02:00
    jobs.request_run(db_session, name, now=early)
    assert job.schedule.due(jobs.last_run(db_session, name), early)

    ran = early + dt.timedelta(minutes=1)
    assert jobs.claim(db_session, job, now=ran)
    assert not job.schedule.due(jobs.last_run(db_session, name), ran + dt.timedelta(minutes=5))
    jobs.request_run(db_session, name, now=ran + dt.timedelta(minutes=5))
    assert job.schedule.due(jobs.last_run(db_session, name), ran + dt.timedelta(minutes=5))
    assert jobs.claim(db_session, job, now=ran + dt.timedelta(minutes=6))
    assert not jobs.claim(db_session, job, now=ran + dt.timedelta(minutes=7))


def test_requesting_a_job_already_due_leaves_it_due_and_unknown_jobs_are_refused(db_session: Session) -> None:
    """Does requesting a job that is already overdue leave its last run as it was (never later),
    and does an unknown job name raise KeyError?"""
    long_ago = dt.datetime(2026, 1, 1, tzinfo=UTC)
    db_session.add(JobRun(name="hotspot_alerts", last_run_at=long_ago))
    db_session.flush()
    jobs.request_run(db_session, "hotspot_alerts", now=dt.datetime(2026, 11, 25, 12, tzinfo=UTC))
    assert jobs.last_run(db_session, "hotspot_alerts") == long_ago
    with pytest.raises(KeyError):
        jobs.request_run(db_session, "no_such_job")


def _due_now(session: Session) -> bool:
    return JOBS["hotspot_alerts"].schedule.due(jobs.last_run(session, "hotspot_alerts"), utcnow())


def test_bulk_changes_request_a_run(app: Flask, db_session: Session, make_user: MakeUser) -> None:
    """After the alerts job has just run (not due), does `flask hotspots rebuild` make it due at
    the next pass, and does an administrator making a category sensitive do the same, while
    changing only its hint does not?"""
    from app.reports.categories import CategoryDetails, update_category

    def just_ran() -> None:
        db_session.merge(JobRun(name="hotspot_alerts", last_run_at=utcnow()))
        db_session.flush()
        assert not _due_now(db_session)

    just_ran()
    result = app.test_cli_runner().invoke(args=["hotspots", "rebuild"])
    assert result.exit_code == 0, result.output
    assert _due_now(db_session)

    admin = make_user(admin=True)
    litter = db_session.scalars(sa.select(Category).where(Category.slug == "litter")).one()

    def details(**changes: object) -> CategoryDetails:
        fields: dict[str, object] = {
            "name": litter.name,
            "group": litter.group,
            "hint": litter.hint,
            "sensitive": litter.sensitive,
            "default_sector": litter.default_sector.value,
            "active": litter.active,
        }
        return CategoryDetails(**{**fields, **changes})  # type: ignore[arg-type]

    just_ran()
    update_category(db_session, litter, details(hint="Bins and litter in the street"), by=admin)
    assert not _due_now(db_session)
    update_category(db_session, litter, details(sensitive=True), by=admin)
    assert _due_now(db_session)


def test_only_significant_hot_spots_become_findings_described_in_plain_english() -> None:
    """Of one ward's Gi* run, is only the hot spot significant at the 5% false discovery rate a
    candidate (not a hot spot at 90% confidence only, nor a cold spot), keyed by ward, category
    and cell, and summarised with its count, the ward's average and its confidence?"""
    from app.hotspots.analysis import MapCell
    from app.hotspots.findings import HotspotRun, hotspot_candidates, hotspot_key
    from geo.hotspot_stats import CellResult

    strong, weak, cold, quiet = 1, 2, 3, 4  # cell ids stand in for H3 cells here

    def cell(n: int, count: float, hot: bool | None, confidence: int | None, significant: bool) -> MapCell:
        return MapCell(CellResult(n, count, 4.0, 0.0001, True, hot, confidence, significant), (FOLESHILL,))

    run = HotspotRun(
        FOLESHILL,
        7,
        {
            strong: cell(strong, 23, True, 99, True),
            weak: cell(weak, 9, True, 90, False),
            cold: cell(cold, 0, False, 95, True),
            quiet: cell(quiet, 0, None, None, False),
        },
    )
    [found] = hotspot_candidates(
        run, ward_names={FOLESHILL: "Foleshill"}, category_names={7: "Fly-tipping"}, postcodes={strong: "CV6 5AB"}
    )
    assert found.key == hotspot_key(FOLESHILL, 7, strong) == f"hotspot:{FOLESHILL}:7:1"
    assert (found.kind, found.current, found.expected, found.confidence) == (FindingKind.HOTSPOT, 23, 8.0, 99)
    assert found.summary == (
        "Fly-tipping hotspot near CV6 5AB in Foleshill: 23 reports in the last 12 weeks in one area of "
        "about 0.1 km², where an average area of the ward had about 8. Taken with the areas around it, it "
        "stands out with 99% confidence: it is unlikely to be chance."
    )
