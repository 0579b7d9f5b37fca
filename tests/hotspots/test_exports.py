"""The dashboard's CSV and GeoJSON downloads of reports (app/hotspots/exports.py and
export_views.py): what is in them, who may have them, what each viewer sees of sensitive
reports, and their licence and attribution."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import re
from collections.abc import Callable
from html import unescape
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.accounts.models import User
from app.db import utcnow
from app.hotspots import exports
from app.hotspots.filters import DashboardFilter, parse_filter
from app.hotspots.filters import today as dashboard_today
from app.partners.models import Membership, Organisation, OrganisationCategory, OrganisationWard, OrgRole
from app.reports.models import Category, Report, ReportStatus, Sector
from app.reports.queries import PublicReport
from geo.coords import Point
from tests.hotspots.conftest import FOLESHILL, FOLESHILL_POINT, ST_MICHAELS

REPORTS_CSV = "/dashboard/export/reports.csv"
REPORTS_GEOJSON = "/dashboard/export/reports.geojson"
REPORTS_METADATA = "/dashboard/export/reports.csv-metadata.json"
OGL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
FOLESHILL_PLACE = Point(*FOLESHILL_POINT)
_PARTNERS = itertools.count(1)


def local(url: str) -> str:
    """The path and query of an absolute URL (the links are on PUBLIC_BASE_URL)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def rows_of(response: TestResponse) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def by_id(rows: list[dict[str, Any]], key: str = "id") -> dict[int, dict[str, Any]]:
    return {int(row[key]): row for row in rows}


@pytest.fixture
def reports(make_report: Callable[..., Report]) -> dict[str, Report]:
    """Published reports in St Michael's (fly-tipping, a sensitive drug-dealing one, a resolved
    one, one made 200 days ago), one in Foleshill, and one awaiting confirmation."""
    return {
        "fly": make_report(title="Sofa dumped", reporter_name="Ann Example", show_name=True),
        "drugs": make_report(slug="drug-dealing", title="Dealing at number 4", description="Every night at 10"),
        "resolved": make_report(status=ReportStatus.RESOLVED),
        "old": make_report(created_at=utcnow() - dt.timedelta(days=200)),
        "foleshill": make_report(point=FOLESHILL_PLACE),
        "unpublished": make_report(publish=False),
    }


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user(wards=[ST_MICHAELS])


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(admin=True)


def organisation(session: Session, *, members: dict[User, OrgRole], wards: list[str], categories: list[str]) -> None:
    """A new organisation covering ``wards`` × ``categories`` (slugs), with ``members``."""
    org = Organisation(
        name=f"Partner {len(members)}-{id(members)}", sector=Sector.COUNCIL, contact_email="p@example.org"
    )
    session.add(org)
    session.flush()
    session.add_all(OrganisationWard(organisation_id=org.id, ward_code=code) for code in wards)
    for slug in categories:
        found = session.scalar(sa.select(Category.id).where(Category.slug == slug))
        session.add(OrganisationCategory(organisation_id=org.id, category_id=found))
    session.add_all(Membership(user_id=user.id, organisation_id=org.id, role=role) for user, role in members.items())
    session.flush()
    for user in members:
        session.refresh(user)


@pytest.fixture
def coordinator(db_session: Session, make_user: Callable[..., User]) -> Callable[..., User]:
    """``coordinator(categories=[slugs], wards=[codes])``: the coordinator of a new organisation
    covering those wards (St Michael's by default) and categories."""

    def make(*, categories: list[str], wards: list[str] | None = None) -> User:
        person = make_user()
        organisation(
            db_session,
            members={person: OrgRole.COORDINATOR},
            wards=[ST_MICHAELS] if wards is None else wards,
            categories=categories,
        )
        return person

    return make


# --- Contents and filters -------------------------------------------------------------------------


def test_csv_lists_the_published_reports_in_the_period_and_scope(
    client: FlaskClient, login: Callable[[User], None], officer: User, reports: dict[str, Report]
) -> None:
    """Does an officer's CSV hold their ward's published reports of the last 12 weeks, and no
    report that is unpublished, older, or in another ward?"""
    login(officer)
    response = client.get(REPORTS_CSV)
    rows = rows_of(response)
    assert response.get_data(as_text=True).splitlines()[0] == ",".join(exports.REPORT_FIELDS)
    assert set(by_id(rows)) == {reports[k].id for k in ("fly", "drugs", "resolved")}
    fly = by_id(rows)[reports["fly"].id]
    report = reports["fly"]
    assert fly["reference"] == f"TC-{report.id:06d}"
    assert fly["url"].endswith(f"/reports/{report.id}")
    assert (fly["category_slug"], fly["status"], fly["ward_code"]) == ("fly-tipping", "new", ST_MICHAELS)
    assert fly["ward_name"] == "St Michael's"
    assert fly["created_at"] == report.created_at.isoformat()
    assert fly["sensitive"] == "false"
    assert (float(fly["lon"]), float(fly["lat"])) == (round(report.lon, 6), round(report.lat, 6))


def test_filters_narrow_the_export(
    client: FlaskClient, login: Callable[[User], None], admin: User, reports: dict[str, Report]
) -> None:
    """Do the ward, period, category and status filters select the same reports they would
    count on the dashboard?"""
    login(admin)
    everything = by_id(rows_of(client.get(REPORTS_CSV)))
    assert reports["foleshill"].id in everything and reports["old"].id not in everything
    year = by_id(rows_of(client.get(REPORTS_CSV, query_string={"period": "12m"})))
    assert reports["old"].id in year
    foleshill = by_id(rows_of(client.get(REPORTS_CSV, query_string={"ward": FOLESHILL})))
    assert set(foleshill) == {reports["foleshill"].id}
    drugs = by_id(rows_of(client.get(REPORTS_CSV, query_string={"category": "drug-dealing"})))
    assert set(drugs) == {reports["drugs"].id}
    resolved = by_id(rows_of(client.get(REPORTS_CSV, query_string={"status": ["resolved", "closed"]})))
    assert set(resolved) == {reports["resolved"].id}


def test_the_period_counts_uk_local_days(db_session: Session, admin: User, make_report: Callable[..., Report]) -> None:
    """Does the period include a report made at 00:30 BST on its first day (23:30 UTC the day
    before) and leave out one made at 00:00 BST the day after its last, as the dashboard's
    day counts do?"""
    filters = parse_filter(db_session, admin, ward=ST_MICHAELS, period="4w", on=dt.date(2026, 7, 15))
    assert filters.start == dt.date(2026, 6, 18)
    made = {
        "first_day_early": dt.datetime(2026, 6, 17, 23, 30, tzinfo=dt.UTC),
        "day_before_late": dt.datetime(2026, 6, 17, 22, 59, tzinfo=dt.UTC),
        "last_day_late": dt.datetime(2026, 7, 15, 22, 59, tzinfo=dt.UTC),
        "day_after_midnight": dt.datetime(2026, 7, 15, 23, 0, tzinfo=dt.UTC),
    }
    ids = {name: make_report(created_at=when).id for name, when in made.items()}
    export = exports.prepare_reports(db_session, admin, filters, report_url="/reports/{id}", now=utcnow())
    rows = by_id(list(csv.DictReader(io.StringIO("".join(exports.reports_csv(db_session, export))))))
    assert set(rows) == {ids["first_day_early"], ids["last_day_late"]}
    assert rows[ids["first_day_early"]]["created_day"] == "2026-06-18"


def test_geojson_is_a_feature_collection_of_the_same_reports(
    client: FlaskClient, login: Callable[[User], None], officer: User, reports: dict[str, Report]
) -> None:
    """Is the GeoJSON one valid FeatureCollection with a Point per report, the CSV's columns as
    properties, and the same reports as the CSV?"""
    login(officer)
    response = client.get(REPORTS_GEOJSON)
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    data = json.loads(response.get_data(as_text=True))
    assert data["type"] == "FeatureCollection"
    features = data["features"]
    assert {f["properties"]["id"] for f in features} == set(by_id(rows_of(client.get(REPORTS_CSV))))
    for feature in features:
        assert feature["type"] == "Feature"
        assert feature["geometry"]["type"] == "Point"
        assert set(feature["properties"]) == set(exports.REPORT_FIELDS) - {"lon", "lat"}
    fly = next(f for f in features if f["properties"]["id"] == reports["fly"].id)
    assert fly["geometry"]["coordinates"] == [round(reports["fly"].lon, 6), round(reports["fly"].lat, 6)]
    assert fly["properties"]["sensitive"] is False


def test_an_empty_export_is_still_well_formed(
    client: FlaskClient, login: Callable[[User], None], officer: User
) -> None:
    """With no report to export, is the CSV a header row and the GeoJSON an empty FeatureCollection?"""
    login(officer)
    assert client.get(REPORTS_CSV).get_data(as_text=True) == ",".join(exports.REPORT_FIELDS) + "\r\n"
    assert json.loads(client.get(REPORTS_GEOJSON).get_data(as_text=True))["features"] == []


def test_no_personal_data_and_no_spreadsheet_formulas(
    client: FlaskClient, login: Callable[[User], None], admin: User, make_report: Callable[..., Report]
) -> None:
    """Are reporters' names and email addresses left out even when the name is public, and
    does a title that a spreadsheet would run as a formula arrive as text?"""
    report = make_report(
        title='=HYPERLINK("http://example.com")',
        reporter_name="Zebedee Unusualname",
        show_name=True,
        reporter_email="zebedee@example.org",
    )
    login(admin)
    text = client.get(REPORTS_CSV).get_data(as_text=True)
    geojson = client.get(REPORTS_GEOJSON).get_data(as_text=True)
    for body in (text, geojson):
        assert "Zebedee" not in body and "zebedee@example.org" not in body
    row = by_id(list(csv.DictReader(io.StringIO(text))))[report.id]
    assert row["title"] == '\'=HYPERLINK("http://example.com")'


# --- Sensitive reports, per viewer ---------------------------------------------------------------


def test_ward_officer_gets_exact_sensitive_reports(
    client: FlaskClient, login: Callable[[User], None], officer: User, reports: dict[str, Report]
) -> None:
    """Does a ward officer get the exact point and full text of a sensitive report in their ward?"""
    login(officer)
    row = by_id(rows_of(client.get(REPORTS_CSV)))[reports["drugs"].id]
    drugs = reports["drugs"]
    assert (float(row["lon"]), float(row["lat"])) == (round(drugs.lon, 6), round(drugs.lat, 6))
    assert (row["location"], row["title"], row["description"]) == ("exact", drugs.title, drugs.description)
    assert (row["lon"], row["lat"]) != (str(round(drugs.public_lon, 6)), str(round(drugs.public_lat, 6)))


def test_coordinator_covering_the_sensitive_category_gets_it_exactly(
    client: FlaskClient, login: Callable[[User], None], coordinator: Callable[..., User], reports: dict[str, Report]
) -> None:
    """Does a coordinator whose organisation covers the ward and the sensitive category get its
    reports exactly, and nothing from outside their coverage?"""
    login(coordinator(categories=["fly-tipping", "drug-dealing"]))
    rows = by_id(rows_of(client.get(REPORTS_CSV)))
    assert set(rows) == {reports["fly"].id, reports["drugs"].id, reports["resolved"].id}
    assert rows[reports["drugs"].id]["location"] == "exact"
    assert rows[reports["drugs"].id]["title"] == reports["drugs"].title


def test_coordinator_without_the_sensitive_category_gets_none_of_it(
    client: FlaskClient, login: Callable[[User], None], coordinator: Callable[..., User], reports: dict[str, Report]
) -> None:
    """Does a coordinator whose coverage leaves out the sensitive category get none of its
    reports (their dashboard scope has none), in either format, and a 400 if they ask for it?"""
    login(coordinator(categories=["fly-tipping"]))
    assert set(by_id(rows_of(client.get(REPORTS_CSV)))) == {reports["fly"].id, reports["resolved"].id}
    geojson = json.loads(client.get(REPORTS_GEOJSON).get_data(as_text=True))
    assert reports["drugs"].id not in {f["properties"]["id"] for f in geojson["features"]}
    assert "Dealing at number 4" not in json.dumps(geojson)
    assert client.get(REPORTS_CSV, query_string={"category": "drug-dealing"}).status_code == 400


def test_rows_the_viewer_may_not_see_exactly_show_only_what_the_public_sees(
    db_session: Session, coordinator: Callable[..., User], reports: dict[str, Report]
) -> None:
    """Given a scope wider than the viewer's exact-location rights, does the export coarsen each
    sensitive report to exactly what its public page shows (category, status, the ~500 m
    point; no ward, date, title or description) while other reports stay whole?"""
    person = coordinator(categories=["fly-tipping"])
    parsed = parse_filter(db_session, person, ward=None, period=None)
    wider = DashboardFilter(wards=(ST_MICHAELS,), start=parsed.start, end=parsed.end, scope={ST_MICHAELS: None})
    export = exports.prepare_reports(db_session, person, wider, report_url="/reports/{id}", now=utcnow())
    csv_rows = by_id(list(csv.DictReader(io.StringIO("".join(exports.reports_csv(db_session, export))))))
    features = json.loads("".join(exports.reports_geojson(db_session, export)))["features"]
    geo_rows = {f["properties"]["id"]: f for f in features}
    public = PublicReport.of(reports["drugs"])
    row, feature = csv_rows[public.id], geo_rows[public.id]
    assert (float(row["lon"]), float(row["lat"])) == (round(public.lon, 6), round(public.lat, 6))
    assert feature["geometry"]["coordinates"] == [round(public.lon, 6), round(public.lat, 6)]
    props = feature["properties"]
    assert props["location"] == row["location"] == "approximate"
    assert (props["category_slug"], props["status"], props["sensitive"]) == ("drug-dealing", "new", True)
    for field, shown in (
        ("ward_code", public.ward_code),
        ("title", public.title),
        ("description", public.description),
        ("created_at", public.created_at),
    ):
        assert shown is None and props[field] is None and row[field] == "", field
    assert props["created_day"] is None and props["ward_name"] is None
    assert "Dealing at number 4" not in json.dumps(features)
    fly = csv_rows[reports["fly"].id]
    assert (fly["location"], fly["title"]) == ("exact", "Sofa dumped")
    sensitive = db_session.scalars(sa.select(Category.id).where(Category.sensitive).order_by(Category.id)).all()
    assert export.coarsened == {ST_MICHAELS: list(sensitive)}
    rule = exports.report_metadata(export)["coarsening"]
    assert "drug-dealing" in rule["coarsened"][ST_MICHAELS] and "fly-tipping" not in rule["coarsened"][ST_MICHAELS]


def test_exact_places_follow_can_see_exact_location(
    db_session: Session, officer: User, coordinator: Callable[..., User], category: Callable[[str], Any]
) -> None:
    """Is the precomputed set of (ward, category) pairs the same as asking
    ``can_see_exact_location`` for each pair?"""
    from app import permissions

    fly, drugs = category("fly-tipping").id, category("drug-dealing").id
    in_view = {ST_MICHAELS: frozenset({fly, drugs}), FOLESHILL: frozenset({fly, drugs})}
    person = coordinator(categories=["fly-tipping"], wards=[ST_MICHAELS, FOLESHILL])
    assert exports.exact_places(person, in_view) == {(ST_MICHAELS, fly), (FOLESHILL, fly)}
    assert exports.exact_places(officer, in_view) == {(ST_MICHAELS, fly), (ST_MICHAELS, drugs)}
    for ward, categories in in_view.items():
        for category_id in categories:
            place = exports._Place(ward, category_id)
            assert ((ward, category_id) in exports.exact_places(person, in_view)) == (
                permissions.can_see_exact_location(person, place)
            )


# --- Licence, attribution and file names ---------------------------------------------------------


def test_geojson_metadata_carries_licence_attribution_filters_and_rule(
    client: FlaskClient, login: Callable[[User], None], officer: User, reports: dict[str, Report]
) -> None:
    """Does the GeoJSON's top-level metadata give the licence, the attributions, when it was
    made, the filters and the viewer's coarsening rule?"""
    login(officer)
    metadata = json.loads(
        client.get(REPORTS_GEOJSON, query_string={"ward": ST_MICHAELS, "category": "fly-tipping"}).get_data(
            as_text=True
        )
    )["metadata"]
    assert metadata["licence"] == "Open Government Licence v3.0" and metadata["licence_url"] == OGL
    assert "Contains OS data © Crown copyright and database right 2025" in metadata["attribution"]
    assert any("Office for National Statistics" in line for line in metadata["attribution"])
    assert dt.datetime.fromisoformat(metadata["generated_at"]) <= utcnow()
    assert metadata["filters"]["ward"] == ST_MICHAELS
    assert metadata["filters"]["categories"] == ["fly-tipping"]
    assert metadata["filters"]["period"] == "12w"
    assert metadata["coarsening"]["coarsened"] == {}
    assert "exact location" in metadata["coarsening"]["rule"]
    assert "never" in metadata["coarsening"]["personal_data"]


def test_csv_carries_licence_in_headers_and_its_metadata_document(
    client: FlaskClient, login: Callable[[User], None], officer: User, reports: dict[str, Report]
) -> None:
    """Does the CSV response name its licence and its CSV on the Web metadata document in
    ``Link`` headers, is that document's licence, attribution and column list right, and is
    the file named after the ward and the period?"""
    login(officer)
    response = client.get(REPORTS_CSV, query_string={"ward": ST_MICHAELS, "period": "4w"})
    assert response.status_code == 200
    link = response.headers["Link"]
    assert f'<{OGL}>; rel="license"' in link
    assert 'rel="describedby"; type="application/csvm+json"' in link
    metadata_url = link.split(", <", 1)[1].split(">", 1)[0]
    assert metadata_url.startswith("http://127.0.0.1:5000/dashboard/export/reports.csv-metadata.json?")
    assert "period=4w" in metadata_url
    today = dashboard_today()
    start = today - dt.timedelta(days=27)
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="tellus-reports-{ST_MICHAELS}-{start.isoformat()}-to-{today.isoformat()}.csv"'
    )
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.mimetype == "text/csv"
    document = client.get(local(metadata_url)).get_json()
    assert document["@context"] == "http://www.w3.org/ns/csvw"
    assert document["dc:license"] == {"@id": OGL}
    assert "Contains OS data © Crown copyright and database right 2025" in document["dc:source"]
    assert document["url"].split("?")[0].endswith(REPORTS_CSV)
    columns = [c["name"] for c in document["tableSchema"]["columns"]]
    assert columns == response.get_data(as_text=True).splitlines()[0].split(",")
    assert document["notes"][0]["filters"]["ward"] == ST_MICHAELS


# --- Refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [REPORTS_CSV, REPORTS_GEOJSON, REPORTS_METADATA])
def test_bad_filters_are_refused_with_what_to_change(
    client: FlaskClient, login: Callable[[User], None], officer: User, path: str
) -> None:
    """Is a bad period, an unknown status, or a ward outside the officer's own refused with 400
    and a message naming the filter to change?"""
    login(officer)
    for query, field in (
        ({"period": "forever"}, "Period"),
        ({"status": "lost"}, "Status"),
        ({"ward": FOLESHILL}, "Ward"),
        ({"category": "no-such-thing"}, "Categories"),
    ):
        response = client.get(path, query_string=query)
        assert response.status_code == 400, query
        assert f"{field}:" in response.get_data(as_text=True)
        assert "change this filter" in response.get_data(as_text=True)


def test_people_without_the_dashboard_are_refused(
    client: FlaskClient,
    login: Callable[[User], None],
    db_session: Session,
    make_user: Callable[..., User],
    coordinator: Callable[..., User],
) -> None:
    """Are residents, organisation members (not coordinators) and a coordinator whose
    organisation covers no ward refused with 403, and is someone signed out sent to sign in?"""
    assert client.get(REPORTS_CSV).status_code == 302
    member = make_user()
    organisation(db_session, members={member: OrgRole.MEMBER}, wards=[ST_MICHAELS], categories=["fly-tipping"])
    for person in (make_user(), member, coordinator(categories=["fly-tipping"], wards=[])):
        login(person)
        for path in (REPORTS_CSV, REPORTS_GEOJSON, REPORTS_METADATA):
            assert client.get(path).status_code == 403, path
        client.post("/sign-out")


# --- Streaming -----------------------------------------------------------------------------------


def test_the_response_is_streamed_with_a_constant_number_of_queries(
    client: FlaskClient,
    login: Callable[[User], None],
    admin: User,
    make_report: Callable[..., Report],
    count_queries: Callable[[], Any],
) -> None:
    """Is the download a streamed response whose header row comes first, and does it run the
    same number of queries for 3 reports as for 30 (no query per row)?"""
    login(admin)
    counts = []
    for total in (3, 30):
        while len(by_id(rows_of(client.get(REPORTS_CSV)))) < total:
            make_report()
        with count_queries() as queries:
            response = client.get(REPORTS_GEOJSON, buffered=False)
            assert response.is_streamed
            chunks = response.iter_encoded()
            first = next(chunks)
            assert first.startswith(b'{"type":"FeatureCollection","metadata":')
            assert first.endswith(b'"features":[\n')  # the metadata goes out before any row is read
            body = first + b"".join(chunks)
            response.close()
        assert len(json.loads(body)["features"]) == total
        counts.append(queries.count)
    assert counts[0] == counts[1]


def test_dashboard_links_to_the_downloads_with_its_filters(
    client: FlaskClient, login: Callable[[User], None], officer: User, reports: dict[str, Report]
) -> None:
    """Does the dashboard link to each download with the filters chosen on it, do the links
    work, and does the page give the downloads' licence and every attribution line?"""
    login(officer)
    page = client.get(
        "/dashboard", query_string={"ward": ST_MICHAELS, "period": "4w", "category": "fly-tipping", "layer": "hotspots"}
    )
    assert page.status_code == 200
    html = unescape(page.get_data(as_text=True))
    links = re.findall(r'href="(/dashboard/export/[^"]+)"', html)
    expected = {
        f"/dashboard/export/{kind}.{fmt}"
        for kind in ("reports", "hotspots")
        for fmt in ("csv", "geojson", "csv-metadata.json")
    }
    assert {link.split("?")[0] for link in links} == expected
    for link in links:
        assert f"ward={ST_MICHAELS}" in link and "period=4w" in link and "category=fly-tipping" in link
        assert "layer" not in link
        assert client.get(link).status_code == 200, link
    csv_link = next(link for link in links if link.startswith(REPORTS_CSV))
    assert set(by_id(rows_of(client.get(csv_link)))) == {reports["fly"].id, reports["resolved"].id}
    text = " ".join(html.split())
    assert "Open Government Licence v3.0" in text
    for line in exports.ATTRIBUTION:
        assert line in text, line
