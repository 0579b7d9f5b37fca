"""Reporting a concern through the web form: locating, validating, photos, success."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.mail.models import OutboxEmail
from app.reports import aggregates
from app.reports.models import Photo, Report, ReportStatus
from tests.images import jpeg_with_gps

LAT, LON = "52.407526", "-1.508383"  # CV1 5RR


def form(**overrides: Any) -> dict[str, Any]:
    data = {
        "lat": LAT,
        "lon": LON,
        "category": "fly-tipping",
        "title": "Sofa dumped by the garages",
        "description": "An old sofa has been left next to the garages since Monday.",
        "name": "Amira K",
        "email": "amira@example.org",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def fetch_status(client: FlaskClient, url: str) -> tuple[int, str]:
    """GET a file and close it (send_file keeps the file open until then)."""
    response = client.get(url)
    response.close()
    return response.status_code, response.headers.get("Content-Type", "")


def post(client: FlaskClient, data: dict[str, Any]) -> Any:
    return client.post("/report/details", data=data, content_type="multipart/form-data")


def test_postcode_search_leads_to_details_with_the_pin(client: FlaskClient) -> None:
    """Does a postcode in any spacing or case lead to the details form at its centroid?"""
    response = client.get("/report?postcode=%20cv1%205rr%20")
    assert response.status_code == 302
    assert "lat=52.407" in response.location and "postcode=CV1+5RR" in response.location
    page = client.get(response.location)
    assert page.status_code == 200
    assert "We have put the pin at the centre of CV1 5RR" in page.text
    assert "St Michael&#39;s" in page.text


@pytest.mark.parametrize(
    ("postcode", "message"),
    [
        ("", "Enter a postcode"),
        ("hello", "Enter a real postcode"),
        ("B1 1AA", "not a Coventry postcode"),
        ("CV1 0ZZ", "We cannot find CV1 0ZZ"),
    ],
)
def test_bad_postcodes_get_a_clear_message_and_keep_the_value(client: FlaskClient, postcode: str, message: str) -> None:
    """Is a bad postcode shown in the error summary and kept in the box?"""
    response = client.get("/report", query_string={"postcode": postcode})
    assert response.status_code == 400
    assert "There is a problem" in response.text
    assert message in response.text
    assert 'href="#postcode"' in response.text
    assert f'value="{postcode}"' in response.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({}, "Choose where the problem is"),
        ({"lat": "52.4", "lon": "abc"}, "The longitude must be a number"),
        ({"lat": "nan", "lon": "-1.5"}, "The latitude must be a finite number"),
        ({"lat": "52.4862", "lon": "-1.8904"}, "That place is outside Coventry"),
        ({"lat": "95", "lon": "-1.5"}, "between -90 and 90"),
    ],
)
def test_details_without_a_usable_point_goes_back_to_the_map(
    client: FlaskClient, query: dict[str, str], message: str
) -> None:
    """Is a missing, malformed or non-Coventry point refused with a message on the location step?"""
    response = client.get("/report/details", query_string=query)
    assert response.status_code == 400
    assert message in response.text
    assert 'href="#location"' in response.text


def submit_and_confirm(client: FlaskClient, db_session: Session, data: dict[str, Any]) -> Report:
    """Send the form without an account, then follow the emailed confirmation link."""
    response = post(client, data)
    assert response.status_code == 302 and "/report/sent/" in response.location, response.text
    report = db_session.get(Report, int(response.location.rsplit("/", 1)[1]))
    assert report is not None
    link = confirmation_link(db_session, report)
    assert client.get(link).status_code == 302
    return report


def confirmation_link(db_session: Session, report: Report) -> str:
    email = db_session.scalars(
        sa.select(OutboxEmail).where(OutboxEmail.kind == "confirm_report").order_by(OutboxEmail.id.desc())
    ).first()
    assert email is not None and report.reference in email.text_body
    match = re.search(r"https?://[^\s]+/reports/confirm/[A-Za-z0-9_-]+", email.text_body)
    assert match is not None
    return "/reports/" + match.group(0).split("/reports/", 1)[1]


def test_a_report_without_an_account_waits_for_email_confirmation(client: FlaskClient, db_session: Session) -> None:
    """Is a report made without an account private until its emailed link is opened, then public?"""
    response = post(client, form())
    assert response.status_code == 302
    report = db_session.get(Report, int(response.location.rsplit("/", 1)[1]))
    assert report is not None and not report.is_published
    sent = client.get(response.location)
    assert "check your email" in sent.text and report.reference in sent.text and "amira@example.org" in sent.text
    assert client.get(f"/reports/{report.id}").status_code == 404
    assert aggregates.verify(db_session) == []  # not counted on the public map yet
    link = confirmation_link(db_session, report)
    confirmed = client.get(link)
    assert confirmed.status_code == 302
    assert report.is_published
    page = client.get(confirmed.location)
    assert "Report sent" in page.text and report.reference in page.text
    assert aggregates.verify(db_session) == []
    # The link works once.
    assert client.get(link).status_code == 400
    # Another browser cannot see the "check your email" page, which shows the address.
    assert client.application.test_client().get(response.location).status_code == 404


def test_a_valid_report_is_created_with_ward(client: FlaskClient, db_session: Session) -> None:
    """Does a valid submission store the ward, its vintage, the text and the reporter's choices?"""
    report = submit_and_confirm(client, db_session, form())
    assert (report.ward_code, report.ward_vintage, report.status) == ("E05001228", "2025-05", ReportStatus.NEW)
    assert report.title == "Sofa dumped by the garages"
    assert report.reporter_email == "amira@example.org"
    assert not report.show_name
    assert (report.public_lon, report.public_lat) == (report.lon, report.lat)


def test_a_signed_in_residents_report_is_published_at_once(
    client: FlaskClient, db_session: Session, make_user: Any, login: Any
) -> None:
    """Is a verified, signed-in resident's report public at once, under their account's email?"""
    user = make_user(email="signed.in@example.org")
    login(user)
    response = post(client, form(email="typed@example.org"))
    assert response.status_code == 302 and "/reports/" in response.location
    report = db_session.get(Report, int(response.location.rsplit("/", 1)[1]))
    assert report is not None and report.is_published
    assert (report.reporter_id, report.reporter_email) == (user.id, "signed.in@example.org")
    assert "Report sent" in client.get(response.location).text


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"category": None}, "category", "Select what the problem is"),
        ({"category": "unicorns"}, "category", "Not a valid choice"),
        ({"title": ""}, "title", "Enter a short summary"),
        ({"title": "   "}, "title", "Enter a short summary"),
        ({"title": "x" * 121}, "title", "Summary must be 120 characters or fewer"),
        ({"description": ""}, "description", "Enter the details"),
        ({"description": "x" * 5001}, "description", "Details must be 5,000 characters or fewer"),
        ({"email": ""}, "email", "Enter your email address"),
        ({"email": "not-an-email"}, "email", "Enter an email address in the correct format"),
        ({"email": "a@" + "b" * 250 + ".com"}, "email", "254 characters or fewer"),
        ({"name": "n" * 101}, "name", "Name must be 100 characters or fewer"),
        ({"lat": "52.4862", "lon": "-1.8904"}, "location", "outside Coventry"),
        ({"lat": "x", "lon": "y"}, "location", "must be a number"),
    ],
)
def test_each_invalid_field_is_reported_and_the_rest_is_kept(
    client: FlaskClient, db_session: Session, overrides: dict[str, Any], field: str, message: str
) -> None:
    """Is each invalid field named in the error summary, linked to the field, with everything else kept?"""
    before = db_session.scalar(sa.select(sa.func.count()).select_from(Report))
    data = form(**overrides)
    response = post(client, data)
    assert response.status_code == 400
    assert "There is a problem" in response.text
    assert message in response.text
    assert f'href="#{field}"' in response.text
    for kept in ("title", "description", "email", "name"):
        if kept != field and kept in data:
            assert data[kept] in response.text
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Report)) == before


def test_show_my_name_only_with_consent(client: FlaskClient, db_session: Session) -> None:
    """Is the reporter's name public only when they tick 'show my name'?"""
    hidden = submit_and_confirm(client, db_session, form(name="Quiet Person"))
    shown = submit_and_confirm(client, db_session, form(name="Proud Person", show_name="y"))
    assert "Quiet Person" not in client.get(f"/reports/{hidden.id}").text
    assert "Proud Person" in client.get(f"/reports/{shown.id}").text


def test_photos_survive_a_failed_submission_and_attach_on_success(client: FlaskClient, db_session: Session) -> None:
    """Are uploaded photos kept through a failed submission, then attached when it succeeds?"""
    data = form(email="")
    data["photos"] = [(io.BytesIO(jpeg_with_gps()), "bins.jpg"), (io.BytesIO(b"not an image"), "fake.jpg")]
    failed = post(client, data)
    assert failed.status_code == 400
    assert "fake.jpg is not a photo" in failed.text
    assert "Keep bins.jpg" in failed.text
    photo_id = re.search(r'name="kept_photos-0" type="checkbox" value="([0-9a-f]{32})"', failed.text).group(1)  # type: ignore[union-attr]
    assert fetch_status(client, f"/photos/{photo_id}/thumb.jpg")[0] == 200
    report = submit_and_confirm(client, db_session, form(**{"kept_photos-0": photo_id}))
    assert [p.id for p in report.photos] == [photo_id]
    assert fetch_status(client, f"/photos/{photo_id}.jpg") == (200, "image/jpeg")


def test_unticking_keep_drops_a_photo(client: FlaskClient, db_session: Session) -> None:
    """Does leaving 'Keep' unticked leave the photo off the report?"""
    data = form(email="")
    data["photos"] = [(io.BytesIO(jpeg_with_gps()), "a.jpg")]
    post(client, data)
    ok = post(client, form())
    report = db_session.get(Report, int(ok.location.rsplit("/", 1)[1]))
    assert report is not None and report.photos == []


def test_someone_elses_pending_photo_cannot_be_seen_or_taken(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    """Can another browser neither view nor attach a photo still waiting on someone's form?"""
    data = form(email="")
    data["photos"] = [(io.BytesIO(jpeg_with_gps()), "mine.jpg")]
    failed = post(client, data)
    photo_id = re.search(r'value="([0-9a-f]{32})"', failed.text).group(1)  # type: ignore[union-attr]
    other = app.test_client()
    assert fetch_status(other, f"/photos/{photo_id}/thumb.jpg")[0] == 404
    taken = post(other, form(**{"kept_photos-0": photo_id}))
    report = db_session.get(Report, int(taken.location.rsplit("/", 1)[1]))
    assert report is not None and report.photos == []
    assert db_session.get(Photo, photo_id).report_id is None  # type: ignore[union-attr]


def test_at_most_three_photos(client: FlaskClient) -> None:
    """Is a fourth photo refused with a message, keeping the first three?"""
    data = form(email="")
    data["photos"] = [(io.BytesIO(jpeg_with_gps()), f"p{i}.jpg") for i in range(4)]
    response = post(client, data)
    assert "You can add up to 3 photos: p3.jpg was not added" in response.text
    assert response.text.count("Keep p") == 3


def test_too_large_a_request_gets_a_friendly_413(app: Flask, client: FlaskClient) -> None:
    """Does an upload over the request limit get a page that says what to do, not a crash?"""
    # A small limit for this test: werkzeug's test client spools bigger bodies to files it leaves open.
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 200_000
    data = form()
    data["photos"] = [(io.BytesIO(b"\xff\xd8\xff" + b"0" * 300_000), "huge.jpg")]
    try:
        response = post(client, data)
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert response.status_code == 413
    assert "Each photo must be 10 MB or smaller" in response.text


def test_form_without_csrf_token_is_refused_politely(app: Flask, client: FlaskClient) -> None:
    """With CSRF protection on, is a post without a token refused with an explanation?"""
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = post(client, form())
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    assert "the form timed out" in response.text
