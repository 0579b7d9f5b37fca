"""The demo data's planted problems (app/reports/demo.py), found by the dashboard's statistics
(geo.hotspot_stats, geo.trends) from the hex counts alone, on the demo `flask demo load` makes
by default (5,000 reports, seed 2026); and nothing flagged where nothing was planted."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from app.geography.models import Ward
from app.hotspots import analysis, counts
from app.hotspots.models import CITY_RESOLUTION, WARD_RESOLUTION, HexCount
from app.partners.demo import PEOPLE
from app.reports import demo
from app.reports.models import Category, Report
from geo import hexes, hotspot_stats, trends

END = dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)
TODAY = counts.day_of(END)
COUNT, SEED = 5000, 2026  # `flask demo load`'s defaults


@pytest.fixture
def planted(app: Flask, db_session: Session) -> demo.PlantedProblems:
    for _done in demo.generate(db_session, count=COUNT, seed=SEED, data_dir=app.config["GEO_DATA_DIR"], end=END):
        pass
    return demo.planted_problems(db_session)


def officer_wards(session: Session) -> list[str]:
    """The codes of the wards the first demo ward officer covers (app/partners/demo.py)."""
    names = next(p for p in PEOPLE if p.wards).wards
    return list(session.scalars(sa.select(Ward.code).where(Ward.name.in_(names)).order_by(Ward.code)))


def category_ids(session: Session) -> dict[str, int]:
    return dict(session.execute(sa.select(Category.slug, Category.id)).tuples().all())


def weekly(session: Session, ward: str, category_id: int) -> list[int]:
    """Reports in each of the 16 weeks to ``TODAY`` in ``ward`` and category, oldest first."""
    first = TODAY - dt.timedelta(days=16 * 7)
    series = [0] * 16
    rows = session.execute(
        sa.select(HexCount.day, sa.func.sum(HexCount.n))
        .where(HexCount.ward_code == ward, HexCount.category_id == category_id, HexCount.day >= first)
        .group_by(HexCount.day)
    )
    for day, n in rows:
        if day < TODAY:
            series[(day - first).days // 7] += int(n)
    return series


def flagged(series: list[int]) -> bool:
    """The issue's rule: the last 4 weeks against the 12 before, |Poisson Z| ≥ 3, with at least
    the minimum count on the high side (geo.trends.poisson_z's advice)."""
    z, expected = trends.poisson_z(sum(series[-4:]), sum(series[:-4]))
    return abs(z) >= trends.EMERGING_Z and max(sum(series[-4:]), expected) >= hotspot_stats.MIN_COUNT


def cell_counts(session: Session, resolution: int, category_id: int | None) -> dict[int, float]:
    """Reports per cell over the last 12 months, every cell of the city included (zeros too)."""
    column = HexCount.cell9 if resolution == WARD_RESOLUTION else HexCount.cell8
    query = (
        sa.select(column, sa.func.sum(HexCount.n))
        .where(HexCount.day >= TODAY - dt.timedelta(days=365), HexCount.day < TODAY)
        .group_by(column)
    )
    if category_id is not None:
        query = query.where(HexCount.category_id == category_id)
    found = {int(cell): float(n) for cell, n in session.execute(query)}
    area: set[int] = set(found)
    for (geojson,) in session.execute(sa.select(sa.func.ST_AsGeoJSON(Ward.geom))):
        area |= hexes.cells_covering(json.loads(geojson), resolution)
    return {cell: found.get(cell, 0.0) for cell in area}


def test_the_planted_hotspot_and_emerging_problem_are_found(db_session: Session, planted: demo.PlantedProblems) -> None:
    """In wards the demo ward officer covers, is the fly-tipping cluster a significant Gi* hot
    spot (95%+ under the FDR) at both resolutions, for fly-tipping and for every category, and
    is graffiti in Longford an emerging problem (Z ≥ 3, rising by Mann-Kendall for 8 weeks),
    which the dashboard's analysis explains in a sentence?"""
    assert {planted.cluster_ward, planted.trend_ward} <= set(officer_wards(db_session))
    ids = category_ids(db_session)
    assert all(hexes.disk(planted.cluster_cells[0], 1).index(c) > 0 for c in planted.cluster_cells[1:])
    for category_id in (ids[planted.cluster_category], None):
        cells9 = hotspot_stats.hotspots(cell_counts(db_session, WARD_RESOLUTION, category_id))
        for cell in planted.cluster_cells:
            assert cells9[cell].hot is True and cells9[cell].significant, (category_id, cells9[cell])
    cells8 = hotspot_stats.hotspots(cell_counts(db_session, CITY_RESOLUTION, ids[planted.cluster_category]))
    for parent in {hexes.parent(c, CITY_RESOLUTION) for c in planted.cluster_cells}:
        assert cells8[parent].hot is True and cells8[parent].significant, cells8[parent]

    series = weekly(db_session, planted.trend_ward, ids[planted.trend_category])
    z, expected = trends.poisson_z(sum(series[-4:]), sum(series[:-4]))
    assert flagged(series) and z >= trends.EMERGING_Z, series
    assert trends.mann_kendall(series[-12:]).trend == "rising"
    assert trends.periods_above(series, expected / 4) >= 6, series

    found = analysis.emerging(db_session, wards=officer_wards(db_session), categories=None, today=TODAY)
    graffiti = [e for e in found if (e.ward_code, e.category_id, e.cell) == (planted.trend_ward, ids["graffiti"], None)]
    assert len(graffiti) == 1 and graffiti[0].trend == "rising", found
    assert graffiti[0].summary.startswith("Graffiti in Longford: ") and "; rising for " in graffiti[0].summary


def test_nothing_is_flagged_where_nothing_was_planted(db_session: Session, planted: demo.PlantedProblems) -> None:
    """Is no other ward × category in the demo ward officer's wards an emerging problem, and is
    no cell in those wards a hot spot for litter, a category with nothing planted? (Elsewhere
    some are: reports are placed at postcodes, and one cell in Binley and Willenhall holds 112
    of them, a real concentration of where people report.)"""
    ids = category_ids(db_session)
    others = [
        (ward, slug)
        for ward in officer_wards(db_session)
        for slug in ids
        if (ward, slug) != (planted.trend_ward, planted.trend_category)
    ]
    assert len(others) == 3 * len(ids) - 1
    assert [(w, s) for w, s in others if flagged(weekly(db_session, w, ids[s]))] == []
    litter = hotspot_stats.hotspots(cell_counts(db_session, WARD_RESOLUTION, ids["litter"]))
    theirs = set()
    for (geojson,) in db_session.execute(
        sa.select(sa.func.ST_AsGeoJSON(Ward.geom)).where(Ward.code.in_(officer_wards(db_session)))
    ):
        theirs |= hexes.cells_covering(json.loads(geojson), WARD_RESOLUTION)
    assert len(theirs) > 100
    assert [c for c, r in litter.items() if r.hot is True and c in theirs] == []
    assert counts.verify(db_session) == []


def test_generate_in_batches_makes_exactly_count_reports_each_planted_once(app: Flask, db_session: Session) -> None:
    """Loading in several batches (as the benchmarks do at a million), does the demo insert
    exactly ``count`` reports, the planted ones once each, with hex counts that agree?"""
    # Batches of 7: some batch then ends just before the planted reports start, the case
    # that once added them twice.
    for _done in demo.generate(db_session, count=400, seed=SEED, data_dir=app.config["GEO_DATA_DIR"], end=END, batch=7):
        pass
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Report)) == 400
    assert db_session.scalar(sa.select(sa.func.sum(HexCount.n))) == 400
    planted = demo.planted_problems(db_session)
    cluster = db_session.execute(
        sa.select(Report.created_at, Report.title)
        .join(Category)
        .where(Report.h3_r9.in_(planted.cluster_cells), Category.slug == planted.cluster_category)
        .where(Report.created_at >= END - dt.timedelta(days=365))
    ).all()
    assert len(cluster) >= round(400 * demo.CLUSTER_SHARE)
    assert len(set(cluster)) == len(cluster)  # no planted report twice
    assert counts.verify(db_session) == []
