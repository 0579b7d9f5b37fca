"""The dashboard's analysis (app/hotspots/analysis.py, comparison.py): counts per cell, the Gi*
layer and its study area, emerging problems, trends with their bands, the ward comparison,
and the viewer's scope. Counts are planted in ``hex_counts`` directly (``hex_count``), except
where a test says it goes through real reports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import h3
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.coordination.models import CaseClaim, ClaimRole
from app.geography.models import Ward
from app.hotspots import analysis, comparison
from app.hotspots.filters import parse_filter
from app.hotspots.models import CITY_RESOLUTION, WARD_RESOLUTION, HexCount, WardPopulation
from app.partners.models import Membership, Organisation, OrganisationCategory, OrganisationWard, OrgRole
from app.reports.models import Category, Report, ReportStatus, Sector
from geo import hexes
from geo.coords import Point
from tests.hotspots.conftest import FOLESHILL, FOLESHILL_POINT, ST_MICHAELS, ST_MICHAELS_POINT, cell8_of, cell9_at

TODAY = dt.date(2026, 11, 20)  # a Friday


def weeks_ago(weeks: int, day: int = 0) -> dt.date:
    """A day in the week ``weeks`` back from TODAY (0: the 7 days ending TODAY)."""
    return TODAY - dt.timedelta(days=7 * weeks + day)


def ring(cell: int, k: int) -> list[int]:
    return [int(h3.str_to_int(c)) for c in h3.grid_ring(h3.int_to_str(cell), k)]


@pytest.fixture
def admin_filter(db_session: Session, make_user: Callable[..., Any]) -> Callable[..., Any]:
    """``admin_filter(ward=, period=, categories=[], statuses=[])``: an administrator's
    ``DashboardFilter`` ending TODAY."""
    admin = make_user(admin=True)

    def make(**kwargs: Any) -> Any:
        kwargs.setdefault("ward", None)
        kwargs.setdefault("period", "12w")
        return parse_filter(db_session, admin, on=TODAY, **kwargs)

    return make


def ward_geometry(session: Session, code: str) -> dict[str, Any]:
    import json

    text = session.scalar(sa.select(sa.func.ST_AsGeoJSON(Ward.geom)).where(Ward.code == code))
    return dict(json.loads(text))


# --- Counts and the hotspot layer ---------------------------------------------------------------


def test_cell_counts_sum_the_filter_days_statuses_and_resolutions(
    admin_filter: Callable[..., Any], hex_count: Callable[..., HexCount], db_session: Session
) -> None:
    """Do cell counts add up the rows in the period only, per cell, with a status filter
    applied, and do resolution-8 counts equal the sum of their resolution-9 children?"""
    centre = cell9_at(*ST_MICHAELS_POINT)
    neighbour = ring(centre, 1)[0]
    hex_count(day=TODAY, cell9=centre, n=3)
    hex_count(day=weeks_ago(2), cell9=centre, n=2, status="resolved")
    hex_count(day=weeks_ago(1), cell9=neighbour, n=4, category="graffiti")
    hex_count(day=weeks_ago(20), cell9=centre, n=50)  # before the 12 weeks
    filters = admin_filter(ward=ST_MICHAELS)
    assert analysis.cell_counts(db_session, filters, WARD_RESOLUTION) == {centre: 5, neighbour: 4}
    only_new = admin_filter(ward=ST_MICHAELS, statuses=["new"])
    assert analysis.cell_counts(db_session, only_new, WARD_RESOLUTION) == {centre: 3, neighbour: 4}
    by_parent: dict[int, int] = {}
    for cell, n in {centre: 5, neighbour: 4}.items():
        by_parent[cell8_of(cell)] = by_parent.get(cell8_of(cell), 0) + n
    assert analysis.cell_counts(db_session, filters, CITY_RESOLUTION) == by_parent
    with pytest.raises(ValueError, match="resolutions 8 and 9"):
        analysis.cell_counts(db_session, filters, 7)


def test_hotspot_layer_finds_a_planted_hotspot_among_zero_cells(
    admin_filter: Callable[..., Any], hex_count: Callable[..., HexCount], db_session: Session
) -> None:
    """With a cluster of reports planted in one part of St Michael's and nothing elsewhere, is
    its centre a hot spot at 99% confidence, is every cell of the ward in the study area (zeros
    included), and are cells far from the cluster not hot?"""
    centre = cell9_at(*ST_MICHAELS_POINT)
    hex_count(day=weeks_ago(1), cell9=centre, n=30)
    for cell in ring(centre, 1):
        hex_count(day=weeks_ago(1), cell9=cell, n=12)
    layer = analysis.hotspot_layer(db_session, admin_filter(ward=ST_MICHAELS), WARD_RESOLUTION)
    covering = hexes.cells_covering(ward_geometry(db_session, ST_MICHAELS), WARD_RESOLUTION)
    assert covering <= set(layer)
    assert sum(1 for r in layer.values() if r.count == 0) >= len(covering) - 7
    assert layer[centre].hot is True and layer[centre].confidence == 99
    assert layer[centre].count == 30
    far = [c for c in layer if h3.grid_distance(h3.int_to_str(c), h3.int_to_str(centre)) >= 4]
    assert far and all(layer[c].hot is not True for c in far)


def test_the_study_area_adds_cells_with_reports_outside_the_wards(
    admin_filter: Callable[..., Any], hex_count: Callable[..., HexCount], db_session: Session
) -> None:
    """Is a cell whose centre lies outside the ward, but which holds reports counted in it (an
    edge cell), in the study area with its count and the ward it was counted in?"""
    outside = cell9_at(*FOLESHILL_POINT)  # well inside Foleshill, counted in St Michael's here
    hex_count(day=weeks_ago(1), ward=ST_MICHAELS, cell9=outside, n=2)
    covering = hexes.cells_covering(ward_geometry(db_session, ST_MICHAELS), WARD_RESOLUTION)
    assert outside not in covering
    cells = analysis.map_cells(db_session, admin_filter(ward=ST_MICHAELS), WARD_RESOLUTION)
    assert cells[outside].count == 2
    assert cells[outside].wards == (ST_MICHAELS,)
    assert set(cells) == covering | {outside}


def test_nearest_postcodes(db_session: Session) -> None:
    """Does each cell get the postcode nearest its centre (the Council House's cell a CV1
    postcode), and is a cell far from Coventry left out?"""
    council_house = cell9_at(*ST_MICHAELS_POINT)
    far_away = cell9_at(0.0, 51.5)  # Greenwich
    found = analysis.nearest_postcodes(db_session, [council_house, far_away])
    assert found[council_house].startswith("CV1 ")
    assert far_away not in found
    assert analysis.nearest_postcodes(db_session, []) == {}


# --- Scope ---------------------------------------------------------------------------------------


def test_an_officer_sees_only_their_wards(
    db_session: Session, make_user: Callable[..., Any], hex_count: Callable[..., HexCount]
) -> None:
    """Does a ward officer's filter count only their own ward, with every category, and is
    another ward refused?"""
    from app.reports.queries import FilterError

    hex_count(day=weeks_ago(1), ward=ST_MICHAELS, n=3)
    hex_count(day=weeks_ago(1), ward=ST_MICHAELS, n=2, category="graffiti")
    hex_count(day=weeks_ago(1), ward=FOLESHILL, n=7)
    officer = make_user(wards=[ST_MICHAELS])
    filters = parse_filter(db_session, officer, ward=None, period="12w", on=TODAY)
    assert filters.wards == (ST_MICHAELS,)
    assert sum(analysis.cell_counts(db_session, filters, CITY_RESOLUTION).values()) == 5
    counts = comparison.period_counts(db_session, filters)
    assert counts.by_ward() == {ST_MICHAELS: 5}
    with pytest.raises(FilterError):
        parse_filter(db_session, officer, ward=FOLESHILL, period="12w", on=TODAY)


def test_a_coordinator_sees_only_their_coverage(
    db_session: Session,
    make_user: Callable[..., Any],
    hex_count: Callable[..., HexCount],
    category: Callable[[str], Category],
) -> None:
    """Does a coordinator's dashboard count only the wards × categories their organisation
    covers (fly-tipping in St Michael's), in counts, trends and emerging problems alike?"""
    for week in range(4):
        hex_count(day=weeks_ago(week), ward=ST_MICHAELS, n=6, category="fly-tipping")
        hex_count(day=weeks_ago(week), ward=ST_MICHAELS, n=9, category="graffiti")
        hex_count(day=weeks_ago(week), ward=FOLESHILL, n=8, category="fly-tipping")
    org = Organisation(name="Coverage Org", sector=Sector.COUNCIL, contact_email="c@example.org")
    db_session.add(org)
    db_session.flush()
    db_session.add_all(
        [
            OrganisationWard(organisation_id=org.id, ward_code=ST_MICHAELS),
            OrganisationCategory(organisation_id=org.id, category_id=category("fly-tipping").id),
        ]
    )
    person = make_user()
    db_session.add(Membership(user_id=person.id, organisation_id=org.id, role=OrgRole.COORDINATOR))
    db_session.flush()
    db_session.refresh(person)
    filters = parse_filter(db_session, person, ward=None, period="4w", on=TODAY)
    assert filters.wards == (ST_MICHAELS,)
    assert comparison.period_counts(db_session, filters).cells == {(ST_MICHAELS, category("fly-tipping").id): 6 * 4}
    trends = analysis.category_trends(db_session, filters)
    assert [t.category_id for t in trends] == [None, category("fly-tipping").id]
    found = analysis.emerging(
        db_session, wards=filters.wards, categories=None, today=TODAY, scope=filters.scope, resolution=WARD_RESOLUTION
    )
    assert {e.category_id for e in found} <= {category("fly-tipping").id, None}
    assert all(e.ward_code == ST_MICHAELS for e in found)
    cells = analysis.map_cells(db_session, filters, WARD_RESOLUTION)
    assert sum(c.count for c in cells.values()) == 6 * 4


# --- Emerging problems --------------------------------------------------------------------------


def test_a_planted_rise_is_an_emerging_problem_explained_in_words(
    db_session: Session, hex_count: Callable[..., HexCount], category: Callable[[str], Category]
) -> None:
    """With 1 fly-tipping report a week for 12 weeks and then 10 a week for 4, is fly-tipping in
    St Michael's flagged as rising, with the numbers and the run of weeks in its summary?"""
    for week in range(4, 16):
        hex_count(day=weeks_ago(week, day=2), n=1)
    for week in range(4):
        hex_count(day=weeks_ago(week, day=1), n=10)
    found = analysis.emerging(db_session, wards=[ST_MICHAELS], categories=None, today=TODAY)
    ward_level = [e for e in found if e.cell is None]
    assert len(ward_level) == 1
    e = ward_level[0]
    assert (e.ward_code, e.category_id, e.current, e.expected) == (ST_MICHAELS, category("fly-tipping").id, 40, 4.0)
    assert e.z == pytest.approx(2 * (40**0.5 - 4**0.5))
    assert e.trend == "rising" and e.weeks_above == 4
    assert e.weekly == (1, 1, 1, 1, 1, 1, 1, 1, 10, 10, 10, 10)
    assert e.summary == (
        "Fly-tipping in St Michael's: 40 reports in the last 4 weeks against about 4 expected; rising for 4 weeks"
    )


def test_a_planted_fall_is_shown_as_falling(db_session: Session, hex_count: Callable[..., HexCount]) -> None:
    """With 8 graffiti reports a week for 12 weeks and none in the last 4, is graffiti in
    Foleshill listed as falling, after any rises, with a summary that says so?"""
    for week in range(4, 16):
        hex_count(day=weeks_ago(week), ward=FOLESHILL, category="graffiti", n=8)
    for week in range(4):
        hex_count(day=weeks_ago(week), ward=ST_MICHAELS, n=10)
    for week in range(4, 16):
        hex_count(day=weeks_ago(week), ward=ST_MICHAELS, n=1)
    found = [
        e
        for e in analysis.emerging(db_session, wards=[ST_MICHAELS, FOLESHILL], categories=None, today=TODAY)
        if e.cell is None
    ]
    assert [e.rising for e in found] == [True, False]
    fall = found[1]
    assert (fall.current, fall.expected, fall.trend) == (0, 32.0, "falling")
    assert fall.summary.startswith(
        "Graffiti in Foleshill: 0 reports in the last 4 weeks against about 32 expected; falling"
    )


def test_steady_counts_are_not_emerging(db_session: Session, hex_count: Callable[..., HexCount]) -> None:
    """Do 5 reports every week for 16 weeks flag nothing?"""
    for week in range(16):
        hex_count(day=weeks_ago(week), n=5)
    assert analysis.emerging(db_session, wards=[ST_MICHAELS], categories=None, today=TODAY) == []


def test_categories_limit_emerging_problems(
    db_session: Session, hex_count: Callable[..., HexCount], category: Callable[[str], Category]
) -> None:
    """Does asking about graffiti only leave out a fly-tipping rise?"""
    for week in range(4):
        hex_count(day=weeks_ago(week), n=10)
    graffiti = [category("graffiti").id]
    assert analysis.emerging(db_session, wards=[ST_MICHAELS], categories=graffiti, today=TODAY) == []
    assert analysis.emerging(db_session, wards=[ST_MICHAELS], categories=None, today=TODAY)


def test_a_hot_cell_with_a_rise_is_an_emerging_problem_near_a_postcode(
    db_session: Session, hex_count: Callable[..., HexCount]
) -> None:
    """With reports concentrated in one small area over the last 4 weeks (and few before), is
    that hot cell an emerging problem of its own, named by the postcode nearest it?"""
    centre = cell9_at(*ST_MICHAELS_POINT)
    for week in range(4):
        hex_count(day=weeks_ago(week), cell9=centre, n=8)
        for cell in ring(centre, 1):  # too few (4 each) to be hot themselves
            hex_count(day=weeks_ago(week), cell9=cell, n=1)
    for week in range(4, 16):
        hex_count(day=weeks_ago(week), cell9=ring(centre, 3)[0], n=1)
    found = analysis.emerging(db_session, wards=[ST_MICHAELS], categories=None, today=TODAY)
    cells = [e for e in found if e.cell is not None]
    assert [e.cell for e in cells] == [centre]
    hot = cells[0]
    assert hot.resolution == WARD_RESOLUTION and hot.current == 32 and hot.expected == 0
    assert hot.postcode is not None and hot.postcode.startswith("CV1")
    assert hot.summary.startswith(
        f"Reports in every category in a hot spot near {hot.postcode} in St Michael's: 32 reports"
    )


def test_describe_in_words() -> None:
    """Are the summary's wordings right for a rise with no history, an unsteady rise and a
    fall without a trend?"""
    assert analysis.describe("Noise in Earlsdon", current=3, expected=0, trend="", weeks_above=0, weeks_below=0) == (
        "Noise in Earlsdon: 3 reports in the last 4 weeks, and none in the 12 weeks before"
    )
    assert analysis.describe("X in Y", current=1, expected=0.2, trend="rising", weeks_above=1, weeks_below=0) == (
        "X in Y: 1 report in the last 4 weeks against fewer than 1 expected; rising over the last 12 weeks"
    )
    assert analysis.describe("X in Y", current=2, expected=20, trend="", weeks_above=0, weeks_below=3) == (
        "X in Y: 2 reports in the last 4 weeks against about 20 expected; below the usual level for 3 weeks"
    )


# --- Trends -------------------------------------------------------------------------------------


def test_weekly_trend_counts_and_baseline_band(
    admin_filter: Callable[..., Any],
    hex_count: Callable[..., HexCount],
    db_session: Session,
    category: Callable[[str], Category],
) -> None:
    """Are weekly counts right, is each week's band the mean of the 12 weeks before ± 2√mean,
    is a spike above its band flagged, and are weeks without 12 weeks of history before them
    (since the first day counted) left without a band?"""
    for week in range(40):
        hex_count(day=weeks_ago(week), n=4)
    hex_count(day=weeks_ago(0), n=16)  # this week: 20
    trends = analysis.category_trends(db_session, admin_filter(ward=ST_MICHAELS, period="12w"))
    overall, fly = trends
    assert overall.category_id is None and fly.category_id == category("fly-tipping").id
    weekly = fly.weekly
    assert len(weekly) == 12
    assert [p.count for p in weekly] == [4] * 11 + [20]
    assert weekly[-1].end == TODAY and weekly[-1].start == TODAY - dt.timedelta(days=6)
    assert weekly[-1].expected == 4.0
    assert (weekly[-1].low, weekly[-1].high) == (0.0, 8.0)
    assert weekly[-1].above and not weekly[0].above
    assert overall.weekly == fly.weekly

    # A short history: 14 weeks, nothing before. Only the latest week has 12 whole weeks before it.
    db_session.execute(sa.delete(HexCount))
    for week in range(14):
        hex_count(day=weeks_ago(week), n=4)
    weekly = analysis.category_trends(db_session, admin_filter(ward=ST_MICHAELS))[0].weekly
    assert [p.expected is not None for p in weekly] == [False] * 11 + [True]


def test_monthly_trend_has_the_month_so_far(
    admin_filter: Callable[..., Any], hex_count: Callable[..., HexCount], db_session: Session
) -> None:
    """Is the monthly trend 12 calendar months ending with the month so far (marked partial,
    its expected count scaled to the days so far)?"""
    day = dt.date(2024, 11, 1)
    while day <= TODAY:
        hex_count(day=day, n=3)
        day += dt.timedelta(days=3)
    planted = {dt.date(2024, 11, 1) + dt.timedelta(days=3 * i) for i in range(800)}
    monthly = analysis.category_trends(db_session, admin_filter(ward=ST_MICHAELS))[1].monthly
    assert len(monthly) == 12
    assert monthly[0].start == dt.date(2025, 12, 1) and monthly[-1].start == dt.date(2026, 11, 1)
    assert monthly[-1].end == TODAY and monthly[-1].partial and not monthly[-2].partial
    october = sum(3 for d in planted if dt.date(2026, 10, 1) <= d <= dt.date(2026, 10, 31))
    assert monthly[-2].count == october
    year_before = sum(3 for d in planted if dt.date(2025, 11, 1) <= d <= dt.date(2026, 10, 31))
    assert monthly[-1].expected == pytest.approx(year_before / 12 * 20 / 30)


# --- The ward comparison ------------------------------------------------------------------------


def test_rates_are_hidden_without_populations(
    admin_filter: Callable[..., Any], hex_count: Callable[..., HexCount], db_session: Session
) -> None:
    """With no ward populations loaded, are rates absent (and said not loaded); once a ward's
    population is loaded, is its rate reports per 1,000 residents, and is the total's rate
    hidden while another ward's population is missing?"""
    hex_count(day=weeks_ago(1), ward=ST_MICHAELS, n=24)
    hex_count(day=weeks_ago(1), ward=FOLESHILL, n=10)
    filters = admin_filter()
    counts = comparison.period_counts(db_session, filters)
    names = {ST_MICHAELS: "St Michael's", FOLESHILL: "Foleshill"}
    now = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    result = comparison.ward_comparison(db_session, filters, counts, names, now=now)
    assert not result.populations_loaded
    assert all(row.rate is None for row in result.rows)
    db_session.add(WardPopulation(ward_code=ST_MICHAELS, population=16000, year=2024, source="ONS"))
    db_session.flush()
    result = comparison.ward_comparison(db_session, filters, counts, names, now=now)
    rows = {row.code: row for row in result.rows}
    assert result.populations_loaded
    assert rows[ST_MICHAELS].rate == pytest.approx(1.5)
    assert rows[FOLESHILL].rate is None and result.total.rate is None
    assert rows[ST_MICHAELS].reports == 24 and result.total.reports == 34


def test_open_and_overdue_work_by_organisation_and_median_days(
    db_session: Session, make_report: Callable[..., Report], admin_filter: Callable[..., Any]
) -> None:
    """Through real reports: are open cases counted per ward and per lead organisation, with
    overdue ones (past the lead's resolution target, or unacknowledged past the target while
    nobody leads), and is the median days to resolve worked out from publication?"""
    now = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    made = now - dt.timedelta(days=10)
    org = Organisation(name="Lead Org", sector=Sector.COUNCIL, contact_email="l@example.org")
    db_session.add(org)
    db_session.flush()
    late_led = make_report(created_at=made, resolve_due_at=now - dt.timedelta(hours=1))
    on_time_led = make_report(created_at=made, resolve_due_at=now + dt.timedelta(days=1))
    make_report(created_at=made, acknowledge_due_at=now - dt.timedelta(hours=1))
    for report in (late_led, on_time_led):
        db_session.add(CaseClaim(report_id=report.id, organisation_id=org.id, role=ClaimRole.LEAD))
    for days_taken in (1, 2, 6):
        done = make_report(created_at=made)
        done.status = ReportStatus.RESOLVED
        done.resolved_at = made + dt.timedelta(days=days_taken)
    make_report(created_at=made, point=Point(*FOLESHILL_POINT), acknowledge_due_at=now - dt.timedelta(days=1))
    db_session.flush()
    filters = admin_filter()
    work = comparison.open_work(db_session, filters, now=now)
    assert (work.by_ward[ST_MICHAELS].open, work.by_ward[ST_MICHAELS].overdue) == (3, 2)
    assert (work.by_ward[FOLESHILL].open, work.by_ward[FOLESHILL].overdue) == (1, 1)
    by_org = {(o.name, o.open, o.overdue) for o in work.by_organisation}
    assert by_org == {("Lead Org", 2, 1), ("Nobody leads yet", 2, 2)}
    assert work.by_organisation[-1].organisation_id is None
    medians, overall = comparison.median_days_to_resolve(db_session, filters)
    assert medians == {ST_MICHAELS: pytest.approx(2.0)}
    assert overall == pytest.approx(2.0)


def test_one_pass_gives_the_map_and_the_period_counts(
    admin_filter: Callable[..., Any], hex_count: Callable[..., HexCount], db_session: Session
) -> None:
    """Does the dashboard's single pass over the period (``map_cells_and_counts``) give the same
    cells as ``map_cells`` and the same per-ward, per-category counts as ``period_counts``?"""
    centre = cell9_at(*ST_MICHAELS_POINT)
    hex_count(day=weeks_ago(1), cell9=centre, n=4)
    hex_count(day=weeks_ago(2), cell9=ring(centre, 1)[2], n=3, category="graffiti")
    hex_count(day=weeks_ago(3), ward=FOLESHILL, n=5, status="closed")
    filters = admin_filter()
    cells, counts = analysis.map_cells_and_counts(db_session, filters, CITY_RESOLUTION)
    assert cells == analysis.map_cells(db_session, filters, CITY_RESOLUTION)
    assert counts == comparison.period_counts(db_session, filters).cells
    assert sum(counts.values()) == 12
