"""Sensitive categories and personal data in every public output: map, list, page, JSON."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.reports.models import Report
from app.reports.services import pending_photos, store_pending_photo
from geo.coarsen import CELL_LAT, CELL_LON
from geo.coords import Point
from tests.images import jpeg_with_gps

HOME = Point(lon=-1.4966, lat=52.4300)  # inside Foleshill
SECRET_TITLE = "Dealing from the blue door at number 12"
SECRET_TEXT = "The man at number 12 sells from his car every evening"
CITY = "-1.6148,52.3636,-1.4239,52.4649"


def outputs(client: FlaskClient, report: Report) -> dict[str, str]:
    """Every public place a report appears."""
    box = f"{report.public_lon - 0.01},{report.public_lat - 0.01},{report.public_lon + 0.01},{report.public_lat + 0.01}"
    return {
        "page": client.get(f"/reports/{report.id}").text,
        "list": client.get("/reports").text,
        "list-filtered": client.get(f"/reports?category={report.category.slug}").text,
        "geojson": client.get(f"/api/reports.geojson?bbox={box}").text,
        "geojson-city": client.get(f"/api/reports.geojson?bbox={CITY}").text,
        "home": client.get("/").text,
    }


def test_sensitive_report_shows_only_category_status_and_coarse_location(
    client: FlaskClient, db_session: Session, make_report: Callable[..., Report]
) -> None:
    """Does a sensitive report show no title, text, name, email or exact point anywhere public?"""
    report = make_report(
        slug="drug-dealing",
        point=HOME,
        title=SECRET_TITLE,
        description=SECRET_TEXT,
        reporter_name="Worried Neighbour",
        show_name=True,
        reporter_email="neighbour@example.org",
    )
    exact = (f"{report.lon:.5f}", f"{report.lat:.5f}")
    assert (report.public_lon, report.public_lat) != (report.lon, report.lat)
    assert abs(report.public_lon - report.lon) <= CELL_LON / 2 + 1e-6
    assert abs(report.public_lat - report.lat) <= CELL_LAT / 2 + 1e-6
    for where, text in outputs(client, report).items():
        for secret in (SECRET_TITLE, SECRET_TEXT, "Worried Neighbour", "neighbour@example.org", exact[0], exact[1]):
            assert secret not in text, f"{secret!r} leaked in {where}"
    page = client.get(f"/reports/{report.id}").text
    assert "Drug dealing" in page and "New" in page and "about 500 metres" in page


def test_sensitive_report_in_geojson_is_at_its_coarse_point(
    client: FlaskClient, make_report: Callable[..., Report]
) -> None:
    """Is the GeoJSON point of a sensitive report its coarsened location, with no title?"""
    report = make_report(slug="welfare-concern", point=HOME)
    box = f"{HOME.lon - 0.02},{HOME.lat - 0.02},{HOME.lon + 0.02},{HOME.lat + 0.02}"
    features = client.get(f"/api/reports.geojson?bbox={box}").get_json()["features"]
    mine = next(f for f in features if f["properties"].get("id") == report.id)
    assert mine["geometry"]["coordinates"] == [round(report.public_lon, 6), round(report.public_lat, 6)]
    assert mine["properties"]["title"] is None and mine["properties"]["sensitive"] is True


def test_sensitive_report_photos_are_never_public(
    app,
    client: FlaskClient,
    db_session: Session,
    make_report: Callable[..., Report],  # type: ignore[no-untyped-def]
) -> None:
    """Is a photo attached to a sensitive report unavailable publicly?"""
    report = make_report(slug="anti-social-behaviour", point=HOME)
    photo = store_pending_photo(db_session, app.config["UPLOAD_DIR"], io.BytesIO(jpeg_with_gps()), "x.jpg")
    for p in pending_photos(db_session, [photo.id]):
        p.report_id = report.id
    db_session.flush()
    response = client.get(f"/photos/{photo.id}.jpg")
    response.close()
    assert response.status_code == 404
    assert photo.id not in client.get(f"/reports/{report.id}").text


def test_email_is_never_public_and_name_only_with_consent(
    client: FlaskClient, make_report: Callable[..., Report]
) -> None:
    """Is a non-sensitive report's email never shown, and its name shown only with consent?"""
    hidden = make_report(reporter_name="Private Person", reporter_email="private@example.org")
    shown = make_report(reporter_name="Public Person", show_name=True, reporter_email="public@example.org")
    for report in (hidden, shown):
        for where, text in outputs(client, report).items():
            assert "@example.org" not in text, where
            assert "Private Person" not in text, where
    assert "Public Person" in client.get(f"/reports/{shown.id}").text


def test_reporter_email_never_appears_in_geojson_properties(
    client: FlaskClient, make_report: Callable[..., Report]
) -> None:
    """Do the GeoJSON properties carry only public fields?"""
    make_report(point=HOME)
    box = f"{HOME.lon - 0.01},{HOME.lat - 0.01},{HOME.lon + 0.01},{HOME.lat + 0.01}"
    props = client.get(f"/api/reports.geojson?bbox={box}").get_json()["features"][0]["properties"]
    assert set(props) == {
        "id",
        "reference",
        "title",
        "category",
        "category_slug",
        "sensitive",
        "status",
        "status_label",
        "ward",
        "created",
        "url",
    }
    assert not re.search(r"email|name", ",".join(props))


def test_sensitive_report_hides_its_ward_and_date(client: FlaskClient, make_report: Callable[..., Report]) -> None:
    """Are the ward and the date of a sensitive report left out of the page, list and GeoJSON?"""
    report = make_report(slug="noise", point=HOME)
    page = client.get(f"/reports/{report.id}").text
    # (The map's ward outlines name every ward, so look at the summary list's keys.)
    assert not re.search(r">\s*(Ward|Reported)\s*</dt>", page)
    assert " ward." not in page
    box = f"{HOME.lon - 0.02},{HOME.lat - 0.02},{HOME.lon + 0.02},{HOME.lat + 0.02}"
    props = next(
        f["properties"]
        for f in client.get(f"/api/reports.geojson?bbox={box}").get_json()["features"]
        if f["properties"]["id"] == report.id
    )
    assert props["ward"] is None and props["created"] is None
    listing = client.get("/reports?category=noise").text
    entry = listing.split("approximate location only")[0].rsplit("<li", 1)[1]
    assert "Noise" in entry and "Foleshill" not in entry and "reported" not in entry
