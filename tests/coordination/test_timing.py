"""Time remaining and overdue, in words, and the inbox's Due column, "overdue only" filter and
"due soonest" sort (with a constant number of queries)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.coordination import deadlines, timing
from app.coordination.claims import claim_case
from app.coordination.timing import TimingState, against, duration_text, when
from app.coordination.working_time import LONDON
from app.reports.models import Priority, Report, ReportStatus
from tests.coordination.conftest import Partners

MakeReport = Callable[..., Report]
Login = Callable[[User], None]
UTC = dt.UTC


def london(year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    """UK local wall-clock time, as UTC."""
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=LONDON).astimezone(UTC)


DUE = london(2026, 11, 26, 16, 30)  # a Thursday


def test_time_remaining_says_how_long_and_by_when() -> None:
    """Is work due in 3 hours described as "Due in 3 hours, by 4:30pm on Thursday 26 November"?"""
    found = against(DUE, now=DUE - dt.timedelta(hours=3, minutes=20), done="acknowledged")
    assert found.text == "Due in 3 hours, by 4:30pm on Thursday 26 November"
    assert found.state == TimingState.DUE_SOON and found.state.label == "Due soon"
    later = against(DUE, now=DUE - dt.timedelta(days=5), done="acknowledged")
    assert later.state == TimingState.ON_TRACK and later.text.startswith("Due in 5 days, by 4:30pm")


def test_exactly_due_is_due_now_and_a_minute_later_is_overdue() -> None:
    """At the instant of its deadline is work "Due now", and one minute later "Overdue by 1 minute"?"""
    now = against(DUE, now=DUE, done="acknowledged")
    assert now.text == "Due now, by 4:30pm on Thursday 26 November" and not now.overdue
    late = against(DUE, now=DUE + dt.timedelta(minutes=1), done="acknowledged")
    assert late.overdue and late.state.label == "Overdue"
    assert late.text == "Overdue by 1 minute (due by 4:30pm on Thursday 26 November)"
    assert against(DUE, now=DUE + dt.timedelta(seconds=59), done="x").text.startswith("Overdue by less than a minute")
    assert against(DUE, now=DUE + dt.timedelta(days=2, hours=3), done="x").text.startswith("Overdue by 2 days")


def test_time_remaining_counts_real_hours_across_the_clock_change() -> None:
    """Across the autumn clock change (1am to 2am happens twice), is 12:30am to 2:30am local
    three hours, and the deadline shown in the local time after the change?"""
    now = london(2026, 10, 25, 0, 30)  # BST, 23:30 UTC on the 24th
    due = dt.datetime(2026, 10, 25, 2, 30, tzinfo=UTC)  # 2:30am GMT
    found = against(due, now=now, done="acknowledged")
    assert found.text == "Due in 3 hours, by 2:30am on Sunday 25 October"
    # Spring: 12:30am to 3:30am local is two real hours (1am becomes 2am).
    spring = against(london(2026, 3, 29, 3, 30), now=london(2026, 3, 29, 0, 30), done="acknowledged")
    assert spring.text == "Due in 2 hours, by 3:30am on Sunday 29 March"


def test_met_and_missed_say_by_how_much() -> None:
    """Is work done before its deadline "Met: ... 1 hour before the target", after it "Missed",
    and exactly on it "Met ... exactly on the target"?"""
    met = against(DUE, now=DUE + dt.timedelta(days=9), done_at=DUE - dt.timedelta(hours=1), done="acknowledged")
    assert met.text == "Met: acknowledged 1 hour before the target" and met.state == TimingState.MET
    assert met.detail == "Acknowledged 1 hour before the target"
    missed = against(DUE, now=DUE, done_at=DUE + dt.timedelta(hours=3), done="resolved")
    assert missed.state == TimingState.MISSED and missed.state.label == "Missed"
    assert missed.text == "Missed: resolved 3 hours after the target (4:30pm on Thursday 26 November)"
    assert against(DUE, now=DUE, done_at=DUE, done="resolved").text == "Met: resolved exactly on the target"
    assert against(None, now=DUE, done="resolved").state == TimingState.NONE


def test_times_and_durations_read_naturally() -> None:
    """Are deadlines written as 5pm, midday, or the end of the day that midnight ends (never the
    ambiguous "midnight on Saturday"), with the year only when it differs, and durations
    rounded down to minutes, hours or days?"""
    assert when(london(2026, 11, 30, 17, 0)) == "5pm on Monday 30 November"
    assert when(london(2026, 11, 28, 0, 0)) == "the end of Friday 27 November"
    assert when(london(2027, 1, 1, 0, 0), now=DUE) == "the end of Thursday 31 December"
    assert when(london(2026, 11, 30, 12, 0)) == "midday on Monday 30 November"
    assert when(london(2027, 1, 4, 9, 15), now=DUE) == "9:15am on Monday 4 January 2027"
    assert [duration_text(dt.timedelta(minutes=m)) for m in (1, 59, 60, 119, 47 * 60 + 59, 48 * 60, 73 * 60)] == [
        "1 minute",
        "59 minutes",
        "1 hour",
        "1 hour",
        "47 hours",
        "2 days",
        "3 days",
    ]
    with pytest.raises(ValueError, match="timezone-aware"):
        when(dt.datetime(2026, 11, 26, 16, 30))


def test_a_reports_resolution_is_done_when_resolved_or_closed_and_open_again_when_reopened(
    db_session: Session, make_report: MakeReport
) -> None:
    """Is a resolved report's resolution measured at its resolution, a closed one's at its
    closing, and a reopened one's against its deadline again?"""
    report = make_report()
    report.resolve_due_at = DUE
    report.status, report.resolved_at = ReportStatus.RESOLVED, DUE - dt.timedelta(days=2)
    assert timing.resolution(report, now=DUE).text == "Met: resolved 2 days before the target"
    report.status = ReportStatus.IN_PROGRESS  # reopened
    assert timing.resolution(report, now=DUE + dt.timedelta(hours=2)).overdue
    report.status, report.closed_at = ReportStatus.CLOSED, DUE + dt.timedelta(hours=5)
    assert timing.resolution(report, now=DUE).text.startswith("Missed: closed 5 hours after the target")
    report.resolve_due_at = None
    assert timing.resolution(report, now=DUE).state == TimingState.NONE


# --- The inbox ---------------------------------------------------------------------------------


def _overdue(db_session: Session, report: Report, hours: int) -> None:
    """Move every deadline of ``report`` to ``hours`` ago (negative: from now)."""
    from app.coordination.queries import load_case

    moment = dt.datetime.now(UTC) - dt.timedelta(hours=hours)
    case = load_case(db_session, report.id)
    assert case is not None
    for route in case.routes:
        route.acknowledge_due_at = moment
    report.acknowledge_due_at = moment
    if case.lead is not None:
        report.resolve_due_at = moment
    deadlines.sync_due_at(db_session, report)


def test_the_inbox_shows_what_is_due_and_filters_and_sorts_by_it(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """Does the Due column show our acknowledgement while nobody leads and the resolution once
    we lead, "overdue only" keep just the overdue ones, and "due soonest" put them first and
    closed or undated ones last?"""
    late = make_report(title="Late one")
    soon = make_report(title="Soon one")
    ours = make_report(title="We lead it")
    closed = make_report(title="Closed one")
    claim_case(db_session, ours, partners.council, role="lead", by=partners.council_member)
    _overdue(db_session, late, 30)
    _overdue(db_session, soon, -2)
    _overdue(db_session, ours, 5)
    closed.status = ReportStatus.CLOSED
    deadlines.sync_due_at(db_session, closed)
    login(partners.council_member)
    org = partners.council.id
    page = client.get(f"/inbox?org={org}").text
    assert ">Due<" in page and "To acknowledge" in page and "To resolve" in page
    assert "Overdue by 30 hours" in page and "Overdue by 5 hours" in page and "Due in 1 hour" in page
    overdue = client.get(f"/inbox?org={org}&overdue=1")
    assert overdue.status_code == 200
    assert [r.reference in overdue.text for r in (late, soon, ours, closed)] == [True, False, True, False]
    by_due = client.get(f"/inbox?org={org}&sort=due&status=all").text
    positions = [by_due.index(r.reference) for r in (late, ours, soon, closed)]
    assert positions == sorted(positions)


def test_the_inbox_uses_our_own_acknowledgement_target_not_another_organisations(
    client: FlaskClient, db_session: Session, partners: Partners, make_report: MakeReport, login: Login
) -> None:
    """When only the police's acknowledgement is overdue, is the report overdue in the police's
    inbox but not in the council's?"""
    from app.coordination.queries import load_case

    report = make_report()
    case = load_case(db_session, report.id)
    assert case is not None
    police_route = case.route_of(partners.police)
    assert police_route is not None
    police_route.acknowledge_due_at = dt.datetime.now(UTC) - dt.timedelta(hours=1)
    deadlines.sync_due_at(db_session, report)
    login(partners.council_member)
    assert report.reference not in client.get(f"/inbox?org={partners.council.id}&overdue=1").text
    client.post("/sign-out")
    login(partners.police_member)
    assert report.reference in client.get(f"/inbox?org={partners.police.id}&overdue=1").text


def test_the_inbox_with_due_dates_costs_the_same_queries_whatever_its_length(
    client: FlaskClient,
    db_session: Session,
    partners: Partners,
    make_report: MakeReport,
    login: Login,
    count_queries: Callable[[], Any],
) -> None:
    """Sorted by due date and filtered to overdue and high risk, does the inbox run as many
    queries for 2 reports as for 20?"""
    login(partners.council_member)
    path = f"/inbox?org={partners.council.id}&sort=due&overdue=1&priority=high"

    def add(n: int) -> None:
        for i in range(n):
            report = make_report(priority=Priority.HIGH)
            if i % 2:
                claim_case(db_session, report, partners.council, role="lead", by=partners.council_member)
            _overdue(db_session, report, 3)

    add(2)
    client.get(path)
    with count_queries() as few:
        assert client.get(path).status_code == 200
    add(18)
    with count_queries() as many:
        page = client.get(path)
    assert page.status_code == 200 and page.text.count("Overdue by 3 hours") == 20
    assert many.count == few.count, many.statements
