"""The bbox GeoJSON endpoint, its clusters, and the per-cell counts behind them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.reports import aggregates
from app.reports.models import Report, ReportCell, ReportStatus
from app.reports.queries import ReportFilter, count_reports
from geo.bbox import BBox
from geo.coords import Point

CITY = "-1.6148,52.3636,-1.4239,52.4649"
FOLESHILL = Point(lon=-1.4966, lat=52.4300)
EARLSDON = Point(lon=-1.5350, lat=52.3990)
UTC = dt.UTC


def geojson(client: FlaskClient, **params: Any) -> Any:
    response = client.get("/api/reports.geojson", query_string=params)
    assert response.status_code == 200, response.text
    return response.get_json()


def ids(data: dict[str, Any]) -> set[int]:
    return {f["properties"]["id"] for f in data["features"]}


def around(point: Point, d: float = 0.003) -> str:
    return f"{point.lon - d},{point.lat - d},{point.lon + d},{point.lat + d}"


def test_points_inside_the_bbox_are_returned_and_outside_ones_are_not(
    client: FlaskClient, make_report: Callable[..., Report]
) -> None:
    """Does the endpoint return exactly the reports whose public point is in the bbox?"""
    inside = make_report(point=FOLESHILL)
    outside = make_report(point=EARLSDON)
    data = geojson(client, bbox=around(FOLESHILL))
    assert data["type"] == "FeatureCollection" and data["mode"] == "points"
    assert inside.id in ids(data) and outside.id not in ids(data)
    feature = next(f for f in data["features"] if f["properties"]["id"] == inside.id)
    assert feature["geometry"] == {"type": "Point", "coordinates": [FOLESHILL.lon, FOLESHILL.lat]}
    assert feature["properties"]["url"] == f"/reports/{inside.id}"


def test_filters_category_status_ward_and_dates(client: FlaskClient, make_report: Callable[..., Report]) -> None:
    """Do category, status, ward and date filters each narrow the results?"""
    litter = make_report(slug="litter", point=FOLESHILL, created_at=dt.datetime(2026, 3, 10, tzinfo=UTC))
    tipping = make_report(point=FOLESHILL, created_at=dt.datetime(2026, 4, 20, tzinfo=UTC))
    tipping.status = ReportStatus.RESOLVED
    elsewhere = make_report(point=EARLSDON, created_at=dt.datetime(2026, 4, 21, tzinfo=UTC))
    box = CITY
    assert ids(geojson(client, bbox=box, category="litter")) >= {litter.id}
    assert tipping.id not in ids(geojson(client, bbox=box, category="litter"))
    assert ids(geojson(client, bbox=box, category=["litter", "fly-tipping"])) >= {litter.id, tipping.id}
    resolved = ids(geojson(client, bbox=box, status="resolved"))
    assert tipping.id in resolved and litter.id not in resolved
    in_foleshill = ids(geojson(client, bbox=box, ward="E05001222"))
    assert {litter.id, tipping.id} <= in_foleshill and elsewhere.id not in in_foleshill
    april = ids(geojson(client, bbox=box, **{"from": "2026-04-01", "to": "2026-04-20"}))
    assert tipping.id in april and litter.id not in april and elsewhere.id not in april


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "bbox is required"),
        ({"bbox": "1,2,3"}, "4 comma-separated numbers"),
        ({"bbox": "a,b,c,d"}, "min_lon must be a number"),
        ({"bbox": "-1.4,52.3,-1.6,52.5"}, "min_lon must be less than max_lon"),
        ({"bbox": "-5,50,0,55"}, "too large"),
        ({"bbox": CITY, "category": "dragons"}, "no category 'dragons'"),
        ({"bbox": CITY, "status": "lost"}, "Status must be one of"),
        ({"bbox": CITY, "ward": "E0000000"}, "no ward"),
        ({"bbox": CITY, "from": "2026-02-30"}, "must be a real date"),
        ({"bbox": CITY, "from": "2026-05-01", "to": "2026-04-01"}, "on or before"),
    ],
)
def test_bad_requests_get_a_400_that_says_what_is_wrong(
    client: FlaskClient, params: dict[str, str], message: str
) -> None:
    """Is a malformed or oversized bbox, or a bad filter, a 400 JSON error saying what to fix?"""
    response = client.get("/api/reports.geojson", query_string=params)
    assert response.status_code == 400
    assert message in response.get_json()["error"]


def test_many_reports_come_back_as_clusters_whose_counts_add_up(
    app: Flask, client: FlaskClient, db_session: Session, make_report: Callable[..., Report]
) -> None:
    """Past the point limit, are clusters returned, with counts that sum to the reports in view?"""
    for i in range(6):
        make_report(point=Point(FOLESHILL.lon + i * 0.002, FOLESHILL.lat))
    for i in range(4):
        make_report(point=Point(EARLSDON.lon, EARLSDON.lat + i * 0.002))
    app.config["MAP_MAX_POINTS"] = 5
    try:
        data = geojson(client, bbox=CITY)
    finally:
        app.config["MAP_MAX_POINTS"] = 400
    assert data["mode"] == "clusters"
    assert all(f["properties"]["cluster"] for f in data["features"])
    assert data["total"] == sum(f["properties"]["count"] for f in data["features"])
    assert data["total"] == count_reports(db_session, ReportFilter())


def test_cluster_counts_respect_part_month_date_filters(
    app: Flask, client: FlaskClient, db_session: Session, make_report: Callable[..., Report]
) -> None:
    """With dates that cut months in half, do cluster counts still match the reports exactly?"""
    for day in (1, 9, 10, 20, 31):
        make_report(point=FOLESHILL, created_at=dt.datetime(2026, 3, day, 12, tzinfo=UTC))
    for day in (1, 15, 30):
        make_report(point=FOLESHILL, created_at=dt.datetime(2026, 4, day, 12, tzinfo=UTC))
    make_report(point=FOLESHILL, created_at=dt.datetime(2026, 5, 2, 12, tzinfo=UTC))
    app.config["MAP_MAX_POINTS"] = 0
    try:
        for start, end in [
            ("2026-03-10", "2026-04-15"),
            ("2026-03-01", "2026-04-30"),
            ("2026-03-09", "2026-03-20"),
            ("2026-04-01", None),
            (None, "2026-03-31"),
        ]:
            params = {"bbox": CITY, **({"from": start} if start else {}), **({"to": end} if end else {})}
            data = geojson(client, **params)
            expected = count_reports(
                db_session,
                ReportFilter(
                    start=dt.date.fromisoformat(start) if start else None,
                    end=dt.date.fromisoformat(end) if end else None,
                ),
            )
            assert sum(f["properties"]["count"] for f in data["features"]) == expected, (start, end)
    finally:
        app.config["MAP_MAX_POINTS"] = 400


def test_street_zoom_returns_points_and_city_zoom_stays_small(
    client: FlaskClient, make_report: Callable[..., Report]
) -> None:
    """Does a street view return single points, and is the response small?"""
    for i in range(30):
        make_report(point=Point(FOLESHILL.lon + (i % 6) * 0.0003, FOLESHILL.lat + (i // 6) * 0.0003))
    response = client.get("/api/reports.geojson", query_string={"bbox": around(FOLESHILL, 0.003)})
    assert response.get_json()["mode"] == "points"
    assert len(response.data) < 200_000


def test_cells_follow_every_write_and_rebuild_agrees(db_session: Session, make_report: Callable[..., Report]) -> None:
    """Are the cell counts exact after creates and a status change, and does a rebuild give the same?"""
    reports = [make_report(point=FOLESHILL), make_report(slug="noise", point=EARLSDON)]
    assert aggregates.verify(db_session) == []
    aggregates.remove(db_session, [reports[0]])
    reports[0].status = ReportStatus.RESOLVED
    db_session.flush()
    aggregates.add(db_session, [reports[0]])
    assert aggregates.verify(db_session) == []
    before = {
        (c.level, c.cx, c.cy, c.period, c.category_id, c.status, c.ward_code, c.n)
        for c in db_session.scalars(sa.select(ReportCell))
    }
    aggregates.rebuild(db_session)
    after = {
        (c.level, c.cx, c.cy, c.period, c.category_id, c.status, c.ward_code, c.n)
        for c in db_session.scalars(sa.select(ReportCell))
    }
    assert before == after
    assert db_session.scalar(sa.select(sa.func.min(ReportCell.n))) >= 1


def test_verify_reports_a_cell_that_disagrees(db_session: Session, make_report: Callable[..., Report]) -> None:
    """Does the check find a cell that no longer matches the reports?"""
    make_report(point=FOLESHILL)
    db_session.execute(sa.update(ReportCell).where(ReportCell.level == 3).values(n=ReportCell.n + 5))
    problems = aggregates.verify(db_session)
    assert problems and "table has" in problems[0]


def test_geojson_does_a_constant_number_of_queries(
    client: FlaskClient, make_report: Callable[..., Report], count_queries: Callable[..., Any]
) -> None:
    """Does the map endpoint run the same number of queries for 2 reports as for 25?"""
    box = around(FOLESHILL, 0.01)

    def queries() -> int:
        with count_queries() as q:
            assert client.get("/api/reports.geojson", query_string={"bbox": box}).status_code == 200
        return q.count

    make_report(point=FOLESHILL)
    make_report(point=FOLESHILL)
    few = queries()
    for _ in range(23):
        make_report(point=FOLESHILL)
    assert queries() == few


def test_list_does_a_constant_number_of_queries(
    client: FlaskClient, make_report: Callable[..., Report], count_queries: Callable[..., Any]
) -> None:
    """Does the list page run the same number of queries whatever its length?"""

    def queries() -> int:
        with count_queries() as q:
            assert client.get("/reports?ward=E05001222").status_code == 200
        return q.count

    make_report(point=FOLESHILL)
    few = queries()
    for _ in range(20):
        make_report(point=FOLESHILL)
    assert queries() == few


def test_bbox_uses_the_spatial_index_filter(db_session: Session, make_report: Callable[..., Report]) -> None:
    """Does the bbox filter reach the spatial index on this database (checked in the query plan)?"""
    from geo.spatial_sql import index_filter

    make_report(point=FOLESHILL)
    dialect = db_session.get_bind().dialect.name
    clause = index_filter(dialect, Report.__table__, "public_geom", BBox(-1.5, 52.42, -1.49, 52.44))  # type: ignore[arg-type]
    query = sa.select(Report.id).where(clause)
    compiled = query.compile(db_session.get_bind(), compile_kwargs={"literal_binds": True})
    if dialect == "postgresql":
        db_session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(r[0] for r in db_session.execute(sa.text(f"EXPLAIN {compiled}")))
        assert "idx_reports_public_geom" in plan
    else:
        plan = " ".join(str(r[-1]) for r in db_session.execute(sa.text(f"EXPLAIN QUERY PLAN {compiled}")))
        assert "SpatialIndex" in plan or "VIRTUAL TABLE" in plan
    assert db_session.scalars(query).all() != []
