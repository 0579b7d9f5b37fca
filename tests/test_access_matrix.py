"""Every endpoint, and what an anonymous visitor gets from it.

Adding an endpoint without adding it here fails ``test_every_endpoint_is_in_the_matrix``.
Later issues add roles (resident, partner, ward officer, administrator) as columns.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.reports.models import Report
from app.reports.services import store_pending_photo
from tests.images import jpeg_with_gps

# (endpoint, method, path template, expected status for an anonymous visitor)
MATRIX = [
    ("pages.home", "GET", "/", 200),
    ("pages.data", "GET", "/about/data", 200),
    ("pages.accessibility", "GET", "/accessibility", 200),
    ("reports.start", "GET", "/report", 200),
    ("reports.details", "GET", "/report/details?lat=52.4075&lon=-1.5084", 200),
    ("reports.submit", "POST", "/report/details", 400),
    ("reports.index", "GET", "/reports", 200),
    ("reports.show", "GET", "/reports/{report}", 200),
    ("reports.show", "GET", "/reports/{sensitive}", 200),
    ("reports.show", "GET", "/reports/999999999", 404),
    ("reports.photo", "GET", "/photos/{photo}.jpg", 200),
    ("reports.photo", "GET", "/photos/{photo}/thumb.jpg", 200),
    ("reports.photo", "GET", "/photos/{pending}.jpg", 404),
    ("reports.photo", "GET", "/photos/{sensitive_photo}.jpg", 404),
    ("reports.photo", "GET", "/photos/../../etc/passwd.jpg", 404),
    ("reports.geojson", "GET", "/api/reports.geojson?bbox=-1.6,52.36,-1.42,52.47", 200),
    ("static", "GET", "/static/js/pin-picker.js", 200),
]


@pytest.fixture
def objects(app: Flask, db_session, make_report: Callable[..., Report]) -> dict[str, object]:  # type: ignore[no-untyped-def]
    report = make_report()
    sensitive = make_report(slug="drug-dealing")
    photos = [
        store_pending_photo(db_session, app.config["UPLOAD_DIR"], io.BytesIO(jpeg_with_gps()), f"{n}.jpg")
        for n in range(3)
    ]
    photos[0].report_id = report.id
    photos[2].report_id = sensitive.id
    db_session.flush()
    return {
        "report": report.id,
        "sensitive": sensitive.id,
        "photo": photos[0].id,
        "pending": photos[1].id,
        "sensitive_photo": photos[2].id,
    }


@pytest.mark.parametrize(("endpoint", "method", "path", "status"), MATRIX, ids=[f"{m} {p}" for _, m, p, _ in MATRIX])
def test_anonymous_access(
    client: FlaskClient, objects: dict[str, object], endpoint: str, method: str, path: str, status: int
) -> None:
    """Does an anonymous visitor get the expected status from each endpoint and object?"""
    response = client.open(path.format(**objects), method=method)
    response.close()
    assert response.status_code == status


def test_every_endpoint_is_in_the_matrix(app: Flask) -> None:
    """Is every registered endpoint and method listed in the access matrix?"""
    listed = {(endpoint, method) for endpoint, method, _, _ in MATRIX}
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:  # type: ignore[operator]
            assert (rule.endpoint, method) in listed, f"{rule.endpoint} {method} {rule.rule} is not in MATRIX"
