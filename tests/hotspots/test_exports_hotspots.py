"""The dashboard's hotspot layer as CSV and GeoJSON (app/hotspots/exports.py): one row or
hexagon per cell of the study area, with the dashboard's own figures."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import h3
import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.hotspots.analysis import map_cells
from app.hotspots.filters import parse_filter, today
from app.hotspots.layers import hotspot_label
from app.hotspots.models import HexCount
from app.partners.models import Membership, Organisation, OrganisationCategory, OrganisationWard, OrgRole
from app.reports.models import Category, Sector
from geo import hexes
from tests.hotspots.conftest import FOLESHILL, ST_MICHAELS, cell9_at
from tests.hotspots.test_exports import local

HOTSPOTS_CSV = "/dashboard/export/hotspots.csv"
HOTSPOTS_GEOJSON = "/dashboard/export/hotspots.geojson"
OGL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
# A cell in St Michael's, and its ring of neighbours.
PLANTED = cell9_at(-1.5120, 52.4080)


@pytest.fixture
def planted(hex_count: Callable[..., HexCount]) -> None:
    """Today: 30 fly-tipping and 10 drug-dealing reports in one St Michael's cell, 10 fly-tipping
    in each of its neighbours (a hot spot), and 2 fly-tipping reports in Foleshill."""
    hex_count(day=today(), cell9=PLANTED, n=30)
    hex_count(day=today(), cell9=PLANTED, n=10, category="drug-dealing")
    for cell in hexes.disk(PLANTED, 1)[1:]:
        hex_count(day=today(), cell9=cell, n=10)
    hex_count(day=today(), ward=FOLESHILL, n=2)


def csv_rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_csv_has_every_cell_of_the_dashboards_layer(
    client: FlaskClient,
    db_session: Session,
    login: Callable[[User], None],
    make_user: Callable[..., User],
    planted: None,
) -> None:
    """For one ward, is there a row per cell of the dashboard's layer (zeros included) at the
    ward resolution, with its count, Gi* figures, class, wards and centre?"""
    officer = make_user(wards=[ST_MICHAELS])
    login(officer)
    rows = csv_rows(client.get(HOTSPOTS_CSV, query_string={"ward": ST_MICHAELS}))
    filters = parse_filter(db_session, officer, ward=ST_MICHAELS, period=None)
    layer = map_cells(db_session, filters, 9)
    assert {h3.str_to_int(row["h3_index"]) for row in rows} == set(layer)
    assert any(row["count"] == "0" for row in rows)
    for row in rows:
        cell = h3.str_to_int(row["h3_index"])
        found = layer[cell]
        assert h3.get_resolution(row["h3_index"]) == int(row["resolution"]) == 9
        assert int(row["count"]) == found.count
        assert row["hotspot"] == {True: "hot", False: "cold", None: "none"}[found.result.hot]
        assert row["confidence"] == ("" if found.result.confidence is None else str(found.result.confidence))
        assert row["tested"] == ("true" if found.result.tested else "false")
        assert row["wards"].split(";") == list(found.wards)
        lon, lat = hexes.centre(cell)
        assert (float(row["centre_lon"]), float(row["centre_lat"])) == (round(lon, 6), round(lat, 6))
    planted_row = next(row for row in rows if h3.str_to_int(row["h3_index"]) == PLANTED)
    assert planted_row["count"] == "40"
    assert planted_row["ward_names"] == "St Michael's"
    assert planted_row["hotspot"] == "hot" and planted_row["label"] == hotspot_label(layer[PLANTED])
    assert planted_row["label"].startswith("Hot spot")
    assert abs(float(planted_row["z"]) - layer[PLANTED].result.z) < 1e-9


def test_geojson_has_a_hexagon_per_cell_and_metadata(
    client: FlaskClient, login: Callable[[User], None], make_user: Callable[..., User], planted: None
) -> None:
    """Is the GeoJSON a FeatureCollection of each cell's hexagon (a closed ring of 7 positions)
    with the CSV's figures, and does its metadata give the licence, attribution, filters with
    the resolution, the method and the coarsening rule?"""
    login(make_user(admin=True))
    data = json.loads(client.get(HOTSPOTS_GEOJSON).get_data(as_text=True))
    rows = {row["h3_index"]: row for row in csv_rows(client.get(HOTSPOTS_CSV))}
    assert {f["properties"]["h3_index"] for f in data["features"]} == set(rows)
    for feature in data["features"]:
        ring = feature["geometry"]["coordinates"][0]
        assert feature["geometry"]["type"] == "Polygon"
        assert len(ring) == 7 and ring[0] == ring[-1]
        cell = h3.str_to_int(feature["properties"]["h3_index"])
        assert ring == [[round(lon, 7), round(lat, 7)] for lon, lat in hexes.boundary(cell)]
        assert feature["properties"]["resolution"] == 8  # city-wide: the city's cells
        assert feature["properties"]["count"] == int(rows[feature["properties"]["h3_index"]]["count"])
        assert "centre_lon" not in feature["properties"]
    metadata = data["metadata"]
    assert metadata["licence_url"] == OGL
    assert "Contains OS data © Crown copyright and database right 2025" in metadata["attribution"]
    assert metadata["filters"]["resolution"] == 8 and metadata["filters"]["ward"] is None
    assert "Getis-Ord Gi*" in metadata["method"]
    assert "public location" in metadata["coarsening"]["rule"]
    assert metadata["generated_at"]


def test_counts_follow_the_viewers_categories(
    client: FlaskClient,
    db_session: Session,
    login: Callable[[User], None],
    make_user: Callable[..., User],
    planted: None,
) -> None:
    """Does a coordinator whose organisation covers only fly-tipping get cell counts without
    the drug-dealing reports an officer of the ward sees, and does resolution=8 give city cells?"""
    person = make_user()
    org = Organisation(name="Street Services", sector=Sector.COUNCIL, contact_email="s@example.org")
    db_session.add(org)
    db_session.flush()
    fly = db_session.scalar(sa.select(Category.id).where(Category.slug == "fly-tipping"))
    db_session.add_all(
        [
            OrganisationWard(organisation_id=org.id, ward_code=ST_MICHAELS),
            OrganisationCategory(organisation_id=org.id, category_id=fly),
            Membership(user_id=person.id, organisation_id=org.id, role=OrgRole.COORDINATOR),
        ]
    )
    db_session.flush()
    db_session.refresh(person)
    login(person)
    query = {"ward": ST_MICHAELS}
    counts = {row["h3_index"]: int(row["count"]) for row in csv_rows(client.get(HOTSPOTS_CSV, query_string=query))}
    assert counts[h3.int_to_str(PLANTED)] == 30
    city = csv_rows(client.get(HOTSPOTS_CSV, query_string={**query, "resolution": "8"}))
    assert {row["resolution"] for row in city} == {"8"}
    assert sum(int(row["count"]) for row in city) == 30 + 6 * 10


def test_csv_names_its_licence_and_file(
    client: FlaskClient, login: Callable[[User], None], make_user: Callable[..., User], planted: None
) -> None:
    """Does the hotspot CSV carry the licence and its metadata document in ``Link`` headers, a
    file name with the ward, resolution and dates, and a metadata document describing its columns?"""
    login(make_user(wards=[ST_MICHAELS]))
    response = client.get(HOTSPOTS_CSV, query_string={"ward": ST_MICHAELS})
    assert f'<{OGL}>; rel="license"' in response.headers["Link"]
    filename = response.headers["Content-Disposition"]
    assert filename.startswith(f'attachment; filename="tellus-hotspots-r9-{ST_MICHAELS}-')
    assert filename.endswith(f'-to-{today().isoformat()}.csv"')
    metadata_url = response.headers["Link"].split(", <", 1)[1].split(">", 1)[0]
    document = client.get(local(metadata_url)).get_json()
    assert [c["name"] for c in document["tableSchema"]["columns"]] == response.get_data(as_text=True).splitlines()[
        0
    ].split(",")
    assert document["dc:license"] == {"@id": OGL}


@pytest.mark.parametrize("fmt", ["csv", "geojson", "csv-metadata.json"])
def test_bad_resolution_and_filters_are_refused(
    client: FlaskClient, login: Callable[[User], None], make_user: Callable[..., User], fmt: str
) -> None:
    """Is a resolution other than 8 or 9, or a ward outside the officer's, refused with 400 and
    a message naming what to change; and is a resident refused with 403?"""
    login(make_user(wards=[ST_MICHAELS]))
    path = f"/dashboard/export/hotspots.{fmt}"
    response = client.get(path, query_string={"resolution": "7"})
    assert response.status_code == 400 and "Hexagon size:" in response.get_data(as_text=True)
    response = client.get(path, query_string={"ward": FOLESHILL})
    assert response.status_code == 400 and "Ward:" in response.get_data(as_text=True)
    client.post("/sign-out")
    login(make_user())
    assert client.get(path).status_code == 403
