"""The dashboard page (GET /dashboard): who may see it, what it shows, its filters and their
errors, the layer switch without JavaScript, and a constant number of queries as data grows."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from html import unescape
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.hotspots.filters import today
from app.hotspots.models import HexCount, WardPopulation
from app.partners.models import Membership, Organisation, OrganisationCategory, OrganisationWard, OrgRole
from app.reports.models import Category, Report, Sector
from geo.coords import Point
from tests.hotspots.conftest import FOLESHILL, FOLESHILL_POINT, ST_MICHAELS

OTHER_WARD = "E05001218"  # Bablake


def page_text(html: str) -> str:
    """The page's text without tags, with runs of white space made one space."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user(wards=[ST_MICHAELS])


@pytest.fixture
def coordinator(db_session: Session, make_user: Callable[..., User], category: Callable[[str], Category]) -> User:
    """The coordinator of an organisation covering fly-tipping in Foleshill."""
    org = Organisation(name="Foleshill Fly-tipping", sector=Sector.COUNCIL, contact_email="f@example.org")
    db_session.add(org)
    db_session.flush()
    db_session.add_all(
        [
            OrganisationWard(organisation_id=org.id, ward_code=FOLESHILL),
            OrganisationCategory(organisation_id=org.id, category_id=category("fly-tipping").id),
        ]
    )
    person = make_user()
    db_session.add(Membership(user_id=person.id, organisation_id=org.id, role=OrgRole.COORDINATOR))
    db_session.flush()
    db_session.refresh(person)
    return person


def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    """Does an anonymous visitor get redirected to sign in?"""
    response = client.get("/dashboard")
    assert response.status_code == 302 and "/sign-in" in response.location


def test_residents_and_members_are_refused(
    client: FlaskClient, login: Callable[[User], None], make_user: Callable[..., User], db_session: Session
) -> None:
    """Is the dashboard 403 for a resident, and for a member (not coordinator) of an organisation?"""
    resident = make_user()
    login(resident)
    assert client.get("/dashboard").status_code == 403
    org = Organisation(name="Members Only", sector=Sector.VOLUNTARY, contact_email="m@example.org")
    db_session.add(org)
    db_session.flush()
    db_session.add(OrganisationWard(organisation_id=org.id, ward_code=ST_MICHAELS))
    member = make_user()
    db_session.add(Membership(user_id=member.id, organisation_id=org.id, role=OrgRole.MEMBER))
    db_session.flush()
    db_session.refresh(member)
    login(member)
    assert client.get("/dashboard").status_code == 403


def test_a_coordinator_whose_organisation_covers_no_ward_is_told_why(
    client: FlaskClient, login: Callable[[User], None], make_user: Callable[..., User], db_session: Session
) -> None:
    """Is a coordinator of an organisation with no wards refused (403) with a page that says
    why and what to do?"""
    org = Organisation(name="No Coverage", sector=Sector.VOLUNTARY, contact_email="n@example.org")
    db_session.add(org)
    db_session.flush()
    person = make_user()
    db_session.add(Membership(user_id=person.id, organisation_id=org.id, role=OrgRole.COORDINATOR))
    db_session.flush()
    db_session.refresh(person)
    login(person)
    response = client.get("/dashboard")
    assert response.status_code == 403
    assert "coverage page" in page_text(response.text)


def test_an_officer_sees_their_ward_only(
    client: FlaskClient,
    login: Callable[[User], None],
    officer: User,
    make_report: Callable[..., Report],
) -> None:
    """Through real reports: does a ward officer's dashboard count the reports in their ward and
    not those in another, offer only their ward, and carry the note about what counts mean?"""
    for _ in range(3):
        make_report()  # St Michael's
    make_report(point=Point(*FOLESHILL_POINT))
    login(officer)
    response = client.get("/dashboard")
    assert response.status_code == 200, response.text
    text = page_text(response.text)
    assert "3 reports made from" in text
    assert "Report counts show where people report, not how common a problem is." in text
    assert re.findall(r'<option value="(E\d+)"', response.text) == [ST_MICHAELS]
    assert "Foleshill" not in text.split("Ward comparison")[1]
    assert 'href="/dashboard"' in response.text  # the header link


def test_a_coordinator_sees_their_coverage_only(
    client: FlaskClient,
    login: Callable[[User], None],
    coordinator: User,
    make_report: Callable[..., Report],
) -> None:
    """Does a coordinator's dashboard count fly-tipping in Foleshill (their coverage) but not
    graffiti there, nor fly-tipping elsewhere, and offer only their categories?"""
    make_report(point=Point(*FOLESHILL_POINT))
    make_report(point=Point(*FOLESHILL_POINT))
    make_report(point=Point(*FOLESHILL_POINT), slug="graffiti")
    make_report()
    login(coordinator)
    response = client.get("/dashboard")
    assert response.status_code == 200, response.text
    assert "2 reports made from" in page_text(response.text)
    assert re.findall(r'name="category" type="checkbox" value="([^"]+)"', response.text) == ["fly-tipping"]
    assert client.get("/dashboard?category=graffiti").status_code == 400


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        (f"ward={OTHER_WARD}", "ward", "Choose a ward from the list"),
        ("period=forever", "period", "Choose a period from the list"),
        ("category=not-a-category", "category", "Choose categories from the list"),
        ("status=lost", "status", "Choose statuses from the list"),
        ("layer=satellite", "layer", "Choose what the map shows"),
    ],
)
def test_bad_filters_show_the_page_again_with_the_error(
    client: FlaskClient, login: Callable[[User], None], officer: User, query: str, field: str, message: str
) -> None:
    """Does a bad filter value show the page again (400) with a GOV.UK error summary linking to
    the field, the message beside the field, and the other choices kept?"""
    login(officer)
    response = client.get(
        f"/dashboard?{query}&period=4w&status=new" if "period" not in query else f"/dashboard?{query}"
    )
    assert response.status_code == 400
    html = response.text
    assert "govuk-error-summary" in html
    assert f'href="#{field}"' in html and message in html
    assert f'id="{field}-error"' in html
    assert f'id="{field}"' in html
    if "period" not in query:
        assert re.search(r'<option value="4w" selected>', html)
        assert re.search(r'value="new" checked', html)
    assert "Correct the choice above to see the dashboard" in page_text(html)


def test_the_layer_switch_works_without_javascript(
    client: FlaskClient, login: Callable[[User], None], officer: User, make_report: Callable[..., Report]
) -> None:
    """With layer=hotspots in the address, is that radio checked, its legend shown (in words)
    and the others' legends hidden; and does the page include the heat layer's script from
    this site?"""
    make_report()
    login(officer)
    html = client.get("/dashboard?layer=hotspots").text
    assert re.search(r'value="hotspots" form="dashboard-filters" checked', html)
    assert re.search(r'data-legend="hotspots">', html)
    assert re.search(r'data-legend="counts" hidden', html) and re.search(r'data-legend="heat" hidden', html)
    assert "Hot spot, 99% confidence" in html and "Cold spot, 90% confidence" in html
    assert "/static/build/leaflet.heat/leaflet-heat.js" in html
    assert "cdn.jsdelivr" not in html and "unpkg" not in html


def test_the_page_shows_every_part(
    client: FlaskClient,
    login: Callable[[User], None],
    make_user: Callable[..., User],
    hex_count: Callable[..., HexCount],
) -> None:
    """For an administrator with planted counts (a rise in fly-tipping in St Michael's), does
    the page have the map and its table, the emerging problem in words, trend charts with
    their tables, the top categories and the ward comparison, with rates hidden and why?"""
    now = today()
    for week in range(4, 16):
        hex_count(day=now - dt.timedelta(days=7 * week), n=1)
    for week in range(4):
        hex_count(day=now - dt.timedelta(days=7 * week), n=10)
    login(make_user(admin=True))
    response = client.get("/dashboard")
    assert response.status_code == 200, response.text
    html = response.text
    text = page_text(html)
    assert "data-dashboard-map" in html and 'id="cells-table"' in html
    assert "Fly-tipping in St Michael's: 40 reports in the last 4 weeks against about 4 expected" in text
    assert 'id="chart-weekly-all"' in html and 'id="table-weekly-all"' in html and 'id="table-monthly-all"' in html
    assert '<svg class="tellus-trend"' in html and 'role="img"' in html
    assert "Top categories" in text and "Ward comparison" in text
    assert "Rates per 1,000 residents are not shown: no ward populations are loaded." in text
    assert "flask hotspots load-populations" in text


def test_rates_show_once_populations_are_loaded(
    client: FlaskClient,
    login: Callable[[User], None],
    officer: User,
    hex_count: Callable[..., HexCount],
    db_session: Session,
) -> None:
    """With St Michael's population loaded, does the ward table show its rate per 1,000?"""
    hex_count(day=today(), n=32)
    db_session.add(WardPopulation(ward_code=ST_MICHAELS, population=16000, year=2024, source="ONS"))
    db_session.flush()
    login(officer)
    text = page_text(client.get("/dashboard").text)
    assert "Per 1,000 residents" in text and " 2.0 " in text
    assert "Rates per 1,000 residents are not shown" not in text


def _plant(hex_count: Callable[..., HexCount], start: int, count: int) -> None:
    """``count`` rows on different days, cells and categories across two wards."""
    from tests.hotspots.conftest import cell9_at

    slugs = ["fly-tipping", "graffiti", "potholes-pavements"]
    for i in range(start, start + count):
        ward = ST_MICHAELS if i % 2 else FOLESHILL
        lon, lat = (-1.508383, 52.407526) if ward == ST_MICHAELS else FOLESHILL_POINT
        cell = cell9_at(lon + (i % 5) * 0.003, lat + (i % 3) * 0.002)
        hex_count(day=today() - dt.timedelta(days=i % 120), ward=ward, category=slugs[i % 3], cell9=cell, n=1 + i % 4)


def test_queries_stay_the_same_as_data_grows(
    client: FlaskClient,
    login: Callable[[User], None],
    make_user: Callable[..., User],
    hex_count: Callable[..., HexCount],
    count_queries: Callable[[], Any],
) -> None:
    """Does the dashboard run the same number of queries with three times as many counts?"""
    login(make_user(admin=True))
    _plant(hex_count, 0, 40)
    client.get("/dashboard")  # warm caches (ward outlines' cells)
    with count_queries() as few:
        assert client.get("/dashboard").status_code == 200
    _plant(hex_count, 40, 80)
    with count_queries() as more:
        assert client.get("/dashboard").status_code == 200
    assert more.count == few.count, "\n".join(more.statements)
    assert few.count <= 30, few.count
