"""Partnership performance: medians, shares within target, the ages of open cases, the period
in UK local time, who sees which organisations, the query count, and charts that agree with
their tables."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.coordination.models import CaseClaim, CaseRoute, ClaimRole
from app.coordination.performance import Period, parse_period, performance, plain_duration
from app.db import utcnow
from app.partners.models import Organisation
from app.reports.models import Category, Report, ReportStatus
from tests.coordination.conftest import Partners

MakeReport = Callable[..., Report]
Login = Callable[[User], None]
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)
NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def led_case(db_session: Session, make_report: MakeReport) -> Callable[..., Report]:
    """``led_case(org, published=..., acknowledged=..., ...)``: a published report that ``org``
    leads, with its lifecycle times set directly (offsets after publication)."""

    def make(
        org: Organisation,
        *,
        slug: str = "fly-tipping",
        published: dt.datetime = NOW - 10 * D,
        status: ReportStatus = ReportStatus.ACKNOWLEDGED,
        acknowledged: dt.timedelta | None = H,
        acknowledge_due: dt.timedelta | None = 2 * D,
        resolved: dt.timedelta | None = None,
        resolve_due: dt.timedelta | None = 20 * D,
    ) -> Report:
        report = make_report(slug=slug, created_at=published)
        db_session.add(
            CaseClaim(report_id=report.id, organisation_id=org.id, role=ClaimRole.LEAD, claimed_at=published)
        )
        report.status = status
        report.acknowledged_at = None if acknowledged is None else published + acknowledged
        report.acknowledge_due_at = None if acknowledge_due is None else published + acknowledge_due
        report.resolved_at = None if resolved is None else published + resolved
        report.resolve_due_at = None if resolve_due is None else published + resolve_due
        db_session.flush()
        return report

    return make


def figures(
    db_session: Session, orgs: list[Organisation], period: Period | None = None, category: int | None = None
) -> Any:
    return performance(
        db_session,
        [o.id for o in orgs],
        period=period or Period(NOW.date() - dt.timedelta(days=89), NOW.date()),
        category_id=category,
        category_ids=[],
        now=NOW,
    )


# --- The figures ----------------------------------------------------------------------------------


def test_medians_of_odd_and_even_counts_and_of_none(
    db_session: Session, partners: Partners, led_case: Callable[..., Report], category: Callable[[str], Category]
) -> None:
    """Is the median the middle time for an odd count, the mean of the middle two for an even
    count, and "No cases" where nothing was acknowledged or resolved, per category and overall?"""
    council = partners.council
    for hours in (1, 2, 10):
        led_case(council, slug="fly-tipping", acknowledged=hours * H, status=ReportStatus.RESOLVED, resolved=hours * D)
    for hours in (1, 2, 3, 10):
        led_case(council, slug="litter", acknowledged=hours * H)
    led_case(council, slug="graffiti", acknowledged=None, status=ReportStatus.NEW)
    result = figures(db_session, [council])
    rows = {r.category_id: r for r in result.by_category[council.id]}
    fly, litter, graffiti = (rows[category(s).id] for s in ("fly-tipping", "litter", "graffiti"))
    assert fly.median_acknowledge == 2 * H and fly.median_resolve == 2 * D
    assert litter.median_acknowledge == 2.5 * H and litter.median_resolve is None
    assert graffiti.median_acknowledge is None and graffiti.cases == 1 and graffiti.acknowledged == 0
    overall = result.overall[council.id]
    # 1, 1, 2, 2, 3, 10, 10 hours: the fourth of seven.
    assert overall.cases == 8 and overall.acknowledged == 7 and overall.median_acknowledge == 2 * H
    assert overall.resolved == 3 and overall.median_resolve == 2 * D
    assert plain_duration(litter.median_acknowledge) == "2 hours 30 minutes"
    assert plain_duration(graffiti.median_acknowledge) == "No cases"


def test_shares_within_target_count_only_known_outcomes(
    db_session: Session, partners: Partners, led_case: Callable[..., Report]
) -> None:
    """Does "within target" compare acknowledged_at and resolved_at with their deadlines, count
    an open case past its deadline as missed, and leave out cases whose outcome is not known?"""
    org = partners.police
    published = NOW - 30 * D
    # Acknowledgement: on time (exactly at the deadline) and late; the rest within an hour.
    led_case(org, published=published, acknowledged=2 * D, acknowledge_due=2 * D, resolve_due=40 * D)
    led_case(org, published=published, acknowledged=3 * D, acknowledge_due=2 * D, resolve_due=40 * D)
    # Resolution: on time; late; open past the deadline (missed); open within it (not known);
    # closed without being resolved (not known); reopened after a resolution, now past due (missed).
    led_case(org, published=published, status=ReportStatus.RESOLVED, resolved=5 * D, resolve_due=20 * D)
    led_case(org, published=published, status=ReportStatus.CLOSED, resolved=25 * D, resolve_due=20 * D)
    led_case(org, published=published, status=ReportStatus.IN_PROGRESS, resolve_due=20 * D)
    led_case(org, published=published, status=ReportStatus.IN_PROGRESS, resolve_due=40 * D)
    led_case(org, published=published, status=ReportStatus.CLOSED, resolve_due=20 * D)
    led_case(org, published=published, status=ReportStatus.IN_PROGRESS, resolved=4 * D, resolve_due=20 * D)
    row = figures(db_session, [org]).overall[org.id]
    assert row.cases == 8
    assert (row.acknowledge_share.within, row.acknowledge_share.decided) == (7, 8)
    assert row.acknowledge_share.percent == 88
    assert row.resolved == 2
    assert (row.resolve_share.within, row.resolve_share.decided) == (1, 4)
    assert row.resolve_share.percent == 25


def test_unacknowledged_cases_count_once_their_target_has_passed(
    db_session: Session, partners: Partners, led_case: Callable[..., Report]
) -> None:
    """Is a case not yet acknowledged a miss once its target has passed, and left out before?"""
    org = partners.police
    led_case(org, published=NOW - 5 * D, acknowledged=None, acknowledge_due=2 * D, status=ReportStatus.NEW)
    led_case(org, published=NOW - 1 * D, acknowledged=None, acknowledge_due=2 * D, status=ReportStatus.NEW)
    share = figures(db_session, [org]).overall[org.id].acknowledge_share
    assert (share.within, share.decided, share.percent) == (0, 1, 0)


def test_age_buckets_at_their_edges_with_routed_cases_for_every_organisation(
    db_session: Session, partners: Partners, led_case: Callable[..., Report], make_report: MakeReport
) -> None:
    """Does a case published 2 days 23:59:59 ago count as 0 to 2 days and one exactly 3 days ago
    as 3 to 7 (and so on at 8, 29 and 91 days); do routed cases nobody leads count against
    each organisation they are routed to; and are closed ones left out?"""
    now = utcnow()
    council, police = partners.council, partners.police
    second = dt.timedelta(seconds=1)
    for age in (3 * D - second, 3 * D, 8 * D - second, 8 * D, 29 * D - second, 29 * D, 91 * D - second, 91 * D):
        led_case(council, published=now - age, status=ReportStatus.IN_PROGRESS)
    led_case(council, published=now - H, status=ReportStatus.RESOLVED, resolved=H / 2)
    # Fly-tipping in St Michael's goes to the council and the police; nobody leads it.
    routed = make_report(slug="fly-tipping", created_at=now - 10 * D)
    assert {r.organisation_id for r in db_session.query(CaseRoute).filter_by(report_id=routed.id)} == {
        council.id,
        police.id,
    }
    result = performance(
        db_session,
        [council.id, police.id],
        period=Period.default(now),
        category_id=None,
        category_ids=[],
        now=now,
    )
    assert result.ages[council.id].led == [1, 2, 2, 2, 1]
    assert result.ages[council.id].routed == [0, 0, 1, 0, 0]
    assert result.ages[police.id].led == [0, 0, 0, 0, 0]
    assert result.ages[police.id].routed == [0, 0, 1, 0, 0]


@pytest.mark.parametrize(
    ("published", "counted"),
    [
        # Summer (BST, UTC+1): 1 April starts at 23:00 UTC on 31 March.
        (dt.datetime(2026, 3, 31, 22, 59, 59, tzinfo=dt.UTC), False),
        (dt.datetime(2026, 3, 31, 23, 0, tzinfo=dt.UTC), True),
        (dt.datetime(2026, 4, 30, 22, 59, 59, tzinfo=dt.UTC), True),
        (dt.datetime(2026, 4, 30, 23, 0, tzinfo=dt.UTC), False),
    ],
)
def test_the_period_is_whole_days_in_uk_time(
    db_session: Session, partners: Partners, led_case: Callable[..., Report], published: dt.datetime, counted: bool
) -> None:
    """Does a period of 1 to 30 April take in reports published from midnight on 1 April to
    midnight at the end of 30 April, UK time (BST), and nothing either side?"""
    led_case(partners.police, published=published)
    row = figures(db_session, [partners.police], Period(dt.date(2026, 4, 1), dt.date(2026, 4, 30)))
    assert row.overall[partners.police.id].cases == (1 if counted else 0)


def test_a_winter_period_starts_at_midnight_gmt() -> None:
    """In winter (GMT), does a period start and end at midnight UTC?"""
    period = Period(dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    assert period.start == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert period.end == dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    assert Period.default(dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC)).last == dt.date(2026, 7, 1)


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"from-day": "1", "from-year": "2026"}, "from-month", "Start date must include a month"),
        ({"to-day": "31", "to-month": "2", "to-year": "2026"}, "to-day", "End date must be a real date"),
        ({"from-day": "x", "from-month": "2", "from-year": "2026"}, "from-day", "Start date must be a real date"),
        (
            {"from-day": "1", "from-month": "2", "from-year": "26"},
            "from-year",
            "Start date year must include 4 numbers",
        ),
        ({"to-day": "1", "to-month": "1", "to-year": "2027"}, "to-day", "End date must be today or in the past"),
        (
            {
                "from-day": "10",
                "from-month": "6",
                "from-year": "2026",
                "to-day": "9",
                "to-month": "6",
                "to-year": "2026",
            },
            "to-day",
            "End date must be the same as or after the start date",
        ),
    ],
)
def test_bad_dates_are_refused_with_a_message_saying_what_to_fix(
    values: dict[str, str], field: str, message: str
) -> None:
    """Is each kind of bad date refused with a GOV.UK-style message on the right field?"""
    _, errors = parse_period(values, now=NOW)
    assert errors == {field: message}


def test_blank_dates_mean_the_last_90_days() -> None:
    """With no dates, or only a start date, does the period run to today and start 89 days before?"""
    period, errors = parse_period({}, now=NOW)
    assert not errors and period == Period(dt.date(2026, 3, 18), dt.date(2026, 6, 15)) and period.days == 90
    period, _ = parse_period({"from-day": "1", "from-month": "6", "from-year": "2026"}, now=NOW)
    assert period == Period(dt.date(2026, 6, 1), dt.date(2026, 6, 15))


# --- The page -------------------------------------------------------------------------------------


@pytest.fixture
def coordinator(make_user: Callable[..., User], partners: Partners, db_session: Session) -> User:
    """A coordinator of the council (whose only member so far is a plain member)."""
    from app.partners.models import Membership, OrgRole

    user = make_user()
    db_session.add(Membership(user_id=user.id, organisation_id=partners.council.id, role=OrgRole.COORDINATOR))
    db_session.flush()
    db_session.refresh(user)
    return user


def test_a_coordinator_sees_only_their_organisations(
    client: FlaskClient, partners: Partners, login: Login, led_case: Callable[..., Report]
) -> None:
    """Does the police coordinator see the police's figures only, get 403 for the council's by
    the URL and 404 for an organisation that does not exist?"""
    led_case(partners.police, published=utcnow() - 2 * D)
    led_case(partners.council, published=utcnow() - 2 * D)
    login(partners.police_member)
    page = client.get("/performance")
    assert page.status_code == 200
    assert f'id="org-{partners.police.id}"' in page.text and f'id="org-{partners.council.id}"' not in page.text
    assert ">Performance</a>" in page.text
    assert client.get(f"/performance?org={partners.police.id}").status_code == 200
    assert client.get(f"/performance?org={partners.council.id}").status_code == 403
    assert client.get(f"/performance.csv?org={partners.council.id}").status_code == 403
    assert client.get("/performance?org=999999999").status_code == 404


def test_members_and_residents_cannot_see_performance(
    client: FlaskClient, partners: Partners, login: Login, make_user: Callable[..., User]
) -> None:
    """Is the page refused to a plain member of an organisation and to a resident, with no link to it?"""
    login(partners.council_member)
    assert client.get("/performance").status_code == 403
    assert ">Performance</a>" not in client.get("/inbox").text
    login(make_user())
    assert client.get("/performance").status_code == 403


def test_an_administrator_sees_every_organisation(
    client: FlaskClient, partners: Partners, login: Login, led_case: Callable[..., Report]
) -> None:
    """Does a council administrator see every organisation, and any one by the URL?"""
    led_case(partners.housing, slug="noise", published=utcnow() - 2 * D)
    login(partners.admin)
    page = client.get("/performance")
    assert page.status_code == 200
    for org in (partners.council, partners.police, partners.housing):
        assert f'id="org-{org.id}"' in page.text
    one = client.get(f"/performance?org={partners.housing.id}&category=noise")
    assert one.status_code == 200 and f'id="org-{partners.council.id}"' not in one.text
    assert "All organisations" in one.text


def test_bad_filters_give_400_with_the_error_summary_and_keep_what_was_typed(
    client: FlaskClient, partners: Partners, login: Login
) -> None:
    """Do a bad date and an unknown category give 400, an error summary linking to each field,
    and the values typed kept in the form?"""
    login(partners.police_member)
    page = client.get("/performance?category=nope&from-day=31&from-month=2&from-year=2026")
    assert page.status_code == 400
    assert "There is a problem" in page.text
    assert 'href="#from-day"' in page.text and "Start date must be a real date" in page.text
    assert 'href="#category"' in page.text and "Choose a category from the list" in page.text
    assert 'name="from-day" type="text" value="31"' in page.text
    assert f'id="org-{partners.police.id}"' not in page.text


def test_the_page_says_times_are_calendar_time_and_in_plain_words(
    client: FlaskClient, partners: Partners, login: Login, led_case: Callable[..., Report]
) -> None:
    """Does the page give times in plain words and say they are calendar time while targets are
    working time?"""
    led_case(partners.police, published=utcnow() - 3 * D, acknowledged=28 * H)
    login(partners.police_member)
    page = client.get("/performance").text
    assert "1 day 4 hours" in page
    assert "calendar time" in page and "working time" in page


def test_the_query_count_is_the_same_for_one_organisation_or_many(
    client: FlaskClient,
    partners: Partners,
    login: Login,
    led_case: Callable[..., Report],
    make_organisation: Callable[..., Organisation],
    count_queries: Callable[[], Any],
) -> None:
    """Does the page cost the same number of queries with one organisation and one category as
    with many organisations, categories and cases?"""
    login(partners.admin)
    led_case(partners.council, published=utcnow() - 2 * D)
    with count_queries() as few:
        assert client.get("/performance").status_code == 200
    for slug in ("litter", "graffiti", "noise", "street-lighting"):
        for org in (partners.council, partners.police, make_organisation(), make_organisation()):
            led_case(org, slug=slug, published=utcnow() - 5 * D, status=ReportStatus.RESOLVED, resolved=D)
    with count_queries() as many:
        assert client.get("/performance").status_code == 200
    assert many.count == few.count


class _Figures(HTMLParser):
    """Reads each chart's bars ({(chart id, group, series): text}) and each table's rows
    ({table id: [[cell texts]]}) from the page."""

    def __init__(self) -> None:
        super().__init__()
        self.bars: dict[tuple[str, str, str], str] = {}
        self.tables: dict[str, list[list[str]]] = {}
        self._chart = self._group = self._series = self._table = ""
        self._in_value = self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "figure":
            self._chart = a.get("id", "")
        if "data-group" in a:
            self._group = a["data-group"]
        if "data-series" in a:
            self._series = a["data-series"]
        if "tellus-chart__value" in a.get("class", ""):
            self._in_value = True
            self.bars[(self._chart, self._group, self._series)] = ""
        if tag == "table":
            self._table = a.get("id", "")
            self.tables[self._table] = []
        if tag == "tr" and self._table:
            self.tables[self._table].append([])
        if tag in {"td", "th"} and self._table:
            self._in_cell = True
            self.tables[self._table][-1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "span":
            self._in_value = False
        if tag in {"td", "th"}:
            self._in_cell = False
        if tag == "table":
            self._table = ""

    def handle_data(self, data: str) -> None:
        if self._in_value:
            key = (self._chart, self._group, self._series)
            self.bars[key] = (self.bars[key] + data).strip()
        if self._in_cell and self._table:
            self.tables[self._table][-1][-1] = (self.tables[self._table][-1][-1] + data).strip()


def test_every_chart_has_a_table_with_the_same_figures(
    client: FlaskClient, partners: Partners, login: Login, led_case: Callable[..., Report]
) -> None:
    """Does each chart (aria-hidden, in a figure with a caption) show exactly the figures of the
    table beside it: shares within target by category, and open cases by age?"""
    now = utcnow()
    police = partners.police
    led_case(police, published=now - 4 * D, acknowledged=H, status=ReportStatus.RESOLVED, resolved=D)
    led_case(police, published=now - 40 * D, acknowledged=3 * D, status=ReportStatus.IN_PROGRESS)
    led_case(police, slug="litter", published=now - 1 * D, acknowledged=None, status=ReportStatus.NEW)
    login(partners.police_member)
    page = client.get("/performance")
    assert page.status_code == 200
    assert page.text.count('aria-hidden="true">') >= 2 and page.text.count("<figcaption") == 2
    found = _Figures()
    found.feed(page.text)
    times = found.tables[f"table-times-{police.id}"]
    assert times[0][:4] == ["Category", "Cases led", "Median time to acknowledge", "Acknowledged within target"]
    compared = 0
    for row in times[1:]:
        group = row[0]
        assert found.bars[(f"chart-times-{police.id}", group, "Acknowledged within target")] == row[3]
        assert found.bars[(f"chart-times-{police.id}", group, "Resolved within target")] == row[6]
        compared += 1
    assert compared == 3  # fly-tipping, litter and all categories
    by_group = {row[0]: row for row in times[1:]}
    assert by_group["All categories"][3] == "50% (1 of 2)" and by_group["All categories"][6] == "50% (1 of 2)"
    assert (
        by_group["Litter and overflowing bins"][3] == "No outcome yet"
        and by_group["Litter and overflowing bins"][2] == "No cases"
    )
    ages = found.tables[f"table-ages-{police.id}"]
    for row in ages[1:-1]:
        assert found.bars[(f"chart-ages-{police.id}", row[0], "Leading")] == row[1]
        assert found.bars[(f"chart-ages-{police.id}", row[0], "Routed, nobody leads yet")] == row[2]
    assert [r[1] for r in ages[1:]] == ["1", "0", "0", "1", "0", "2"]


def test_the_csv_has_the_table_and_the_ages(
    client: FlaskClient, partners: Partners, login: Login, led_case: Callable[..., Report]
) -> None:
    """Does the CSV download hold the response-time rows (hours as numbers) and, with
    table=ages, the age profile, for the same organisations and period as the page?"""
    led_case(partners.police, published=utcnow() - 4 * D, acknowledged=90 * dt.timedelta(minutes=1))
    login(partners.police_member)
    response = client.get("/performance.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][0] == "Organisation" and len(rows) == 3
    assert rows[1][:2] == ["Police", "Fly-tipping"] and rows[1][6] == "1.5"
    assert rows[2][1] == "All categories"
    ages = list(csv.reader(io.StringIO(client.get("/performance.csv?table=ages").text)))
    assert ages[1][:2] == ["Police", "Leading"] and ages[1][-1] == "1"
    assert client.get("/performance.csv?table=nope").status_code == 400


def test_demo_figures_are_plausible(app: Any, db_session: Session) -> None:
    """With the demo data, does every demo lead have acknowledgement times and deadlines, and do
    the figures show most cases acknowledged within target and some open cases overdue?"""
    from app.coordination.demo import load_demo_cases
    from app.partners.demo import load_demo_accounts
    from app.reports.demo import generate

    end = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    load_demo_accounts(db_session)
    list(generate(db_session, count=2000, seed=3, data_dir=app.config["GEO_DATA_DIR"], end=end))
    load_demo_cases(db_session, now=end, seed=3)
    orgs = list(db_session.query(Organisation).filter(Organisation.active.is_(True)))
    result = performance(
        db_session, [o.id for o in orgs], period=Period.default(end), category_id=None, category_ids=[], now=end
    )
    led = [result.overall[o.id] for o in orgs if result.overall[o.id].cases]
    assert led
    cases = sum(r.cases for r in led)
    assert sum(r.acknowledged for r in led) == cases
    within = sum(r.acknowledge_share.within for r in led) / sum(r.acknowledge_share.decided for r in led)
    assert 0.6 < within < 0.98
    assert sum(r.resolved for r in led) > 0
    assert all(r.median_acknowledge is not None and r.median_acknowledge < 5 * D for r in led)
    assert any(sum(result.ages[o.id].routed) for o in orgs)
