"""The ASB case review (Community Trigger) hint: three or more anti-social behaviour reports in
six months from one resident, or within 100 m of each other, flag the latest for council triage.
Edges: 99 m and 101 m, 183 days and a minute more."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable

import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.coordination import queries, trigger
from app.coordination.claims import claim_case
from app.coordination.models import CaseEvent, EventKind
from app.partners.models import Organisation
from app.reports.models import Report, ReportStatus
from app.reports.services import publish_report
from geo.coords import Point
from tests.conftest import COUNCIL_HOUSE
from tests.coordination.conftest import BABLAKE_POINT, ST_MICHAELS, Partners

MakeReport = Callable[..., Report]
Login = Callable[[User], None]
ASB = "anti-social-behaviour"
P = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def north_of(point: Point, metres: float) -> Point:
    """``point`` moved ``metres`` due north along the WGS84 ellipsoid's meridian."""
    a, e2 = 6378137.0, 0.00669437999014
    phi = math.radians(point.lat)
    per_degree = math.radians(1) * a * (1 - e2) / (1 - e2 * math.sin(phi) ** 2) ** 1.5
    return Point(lon=point.lon, lat=point.lat + metres / per_degree)


def flag_events(db_session: Session) -> list[CaseEvent]:
    return list(db_session.scalars(sa.select(CaseEvent).where(CaseEvent.kind == EventKind.TRIGGER_FLAGGED)))


def test_a_third_report_from_the_same_email_in_any_case_is_flagged(
    db_session: Session, make_report: MakeReport
) -> None:
    """When one resident (the same address, whatever its capitals) makes a third anti-social
    behaviour report in six months, far apart, is the third flagged with the reason, the
    related references, an event and an audit entry, and the first two not?"""
    first = make_report(slug=ASB, reporter_email="Sam@Example.org", created_at=P - 100 * DAY)
    second = make_report(slug=ASB, reporter_email="sam@example.org", point=BABLAKE_POINT, created_at=P - 50 * DAY)
    assert first.trigger_flagged_at is None and second.trigger_flagged_at is None
    third = make_report(slug=ASB, reporter_email="SAM@example.ORG", point=north_of(COUNCIL_HOUSE, 500), created_at=P)
    assert third.trigger_flagged_at == P
    [event] = flag_events(db_session)
    assert event.report_id == third.id and event.new_value == "Possible Community Trigger (ASB case review)"
    assert event.detail == (
        f"3 anti-social behaviour reports from the same resident within six months: "
        f"{first.reference}, {second.reference} and this one"
    )
    audit = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "case_trigger_flagged")).one()
    assert audit.target == f"report:{third.id}"


def test_the_same_account_counts_as_the_same_resident_whatever_the_address(
    db_session: Session, make_report: MakeReport, make_user: Callable[..., User]
) -> None:
    """Do reports made from one account count together even under different addresses?"""
    resident = make_user()
    made = []
    for n, days in enumerate((40, 20, 0)):
        report = make_report(slug=ASB, publish=False, reporter_email=f"alias{n}@example.org", reporter_id=resident.id)
        publish_report(db_session, report, now=P - days * DAY)
        made.append(report)
    assert [r.trigger_flagged_at for r in made] == [None, None, P]


def test_the_six_month_window_is_183_days_inclusive(db_session: Session, make_report: MakeReport) -> None:
    """Does a report exactly 183 days earlier count, and one 183 days and a minute earlier not?"""
    make_report(slug=ASB, reporter_email="a@example.org", created_at=P - 183 * DAY - dt.timedelta(minutes=1))
    make_report(slug=ASB, reporter_email="a@example.org", created_at=P - 10 * DAY)
    late = make_report(slug=ASB, reporter_email="a@example.org", created_at=P)
    assert late.trigger_flagged_at is None
    make_report(slug=ASB, reporter_email="b@example.org", created_at=P - 183 * DAY)
    make_report(slug=ASB, reporter_email="b@example.org", created_at=P - 10 * DAY)
    edge = make_report(slug=ASB, reporter_email="b@example.org", created_at=P)
    assert edge.trigger_flagged_at == P


def test_three_reports_within_100_metres_are_flagged_and_101_metres_is_too_far(
    db_session: Session, make_report: MakeReport
) -> None:
    """From different residents: with two others 99 m north and 99 m south, is the new report
    flagged (the place rule), and with one of them 101 m away, not?"""
    centre = COUNCIL_HOUSE
    make_report(slug=ASB, point=north_of(centre, 99), created_at=P - 30 * DAY)
    make_report(slug=ASB, point=north_of(centre, -101), created_at=P - 20 * DAY)
    apart = make_report(slug=ASB, point=centre, created_at=P - 10 * DAY)
    assert apart.trigger_flagged_at is None
    make_report(slug=ASB, point=north_of(centre, -99), created_at=P - 5 * DAY)
    near = make_report(slug=ASB, point=centre, created_at=P)
    assert near.trigger_flagged_at == P
    result = trigger.check(db_session, near)
    assert not result.by_resident and result.by_place
    assert len(result.nearby) == 3  # 99 m north, 99 m south, and `apart` at the same spot
    assert "within 100 metres of each other within six months" in flag_events(db_session)[0].detail


def test_other_categories_do_not_count_and_are_never_flagged(db_session: Session, make_report: MakeReport) -> None:
    """Do fly-tipping reports nearby or from the same resident leave an anti-social behaviour
    report unflagged, and is a fly-tipping report never flagged itself?"""
    for days in (30, 20):
        make_report(slug="fly-tipping", reporter_email="c@example.org", created_at=P - days * DAY)
    asb = make_report(slug=ASB, reporter_email="c@example.org", created_at=P - DAY)
    make_report(slug=ASB, reporter_email="c@example.org", created_at=P - 2 * DAY)
    fly = make_report(slug="fly-tipping", reporter_email="c@example.org", created_at=P)
    assert asb.trigger_flagged_at is None and fly.trigger_flagged_at is None
    assert flag_events(db_session) == []


def test_a_flagged_report_is_in_triage_and_its_case_page_links_the_related_reports(
    client: FlaskClient,
    db_session: Session,
    partners: Partners,
    make_report: MakeReport,
    make_organisation: Callable[..., Organisation],
    make_user: Callable[..., User],
    login: Login,
) -> None:
    """Does a flagged report, though routed and led, show in the triage queue as a "Possible
    Community Trigger", and does its case page give the reason and link the related reports
    (for a partner, only those its organisation is on)?"""
    officer = make_user()
    asb_team = make_organisation(name="ASB team", members={officer: "member"}, wards=[ST_MICHAELS], categories=[ASB])
    elsewhere = make_report(slug=ASB, reporter_email="d@example.org", point=BABLAKE_POINT, created_at=P - 9 * DAY)
    here = make_report(slug=ASB, reporter_email="d@example.org", created_at=P - 8 * DAY)
    flagged = make_report(slug=ASB, reporter_email="d@example.org", created_at=P - 7 * DAY)
    assert flagged.trigger_flagged_at is not None
    claim_case(db_session, flagged, asb_team, role="lead", by=officer)
    assert flagged in queries.triage_queue(db_session, page=1, per_page=100)[0]
    login(partners.admin)
    triage = client.get("/triage").text
    assert flagged.reference in triage and "Possible Community Trigger (ASB case review)</strong>" in triage
    admin_page = client.get(f"/cases/{flagged.id}").text
    assert "Possible Community Trigger (ASB case review)" in admin_page
    assert f'href="/cases/{elsewhere.id}"' in admin_page and f'href="/cases/{here.id}"' in admin_page
    client.post("/sign-out")
    login(officer)  # the ASB team has the St Michael's report, not the Bablake one
    page = client.get(f"/cases/{flagged.id}").text
    assert f'href="/cases/{here.id}"' in page and f'href="/cases/{elsewhere.id}"' not in page
    assert f"{elsewhere.reference} (not on your organisation's cases)" in page
    flagged.status = ReportStatus.RESOLVED
    db_session.flush()
    assert flagged not in queries.triage_queue(db_session, page=1, per_page=100)[0]


def test_a_report_is_flagged_once(db_session: Session, make_report: MakeReport) -> None:
    """Does checking an already flagged report again add nothing?"""
    for days in (3, 2):
        make_report(slug=ASB, reporter_email="e@example.org", created_at=P - days * DAY)
    report = make_report(slug=ASB, reporter_email="e@example.org", created_at=P)
    assert trigger.flag_if_needed(db_session, report, now=P + DAY) is None
    assert report.trigger_flagged_at == P and len(flag_events(db_session)) == 1
