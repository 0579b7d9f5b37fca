"""IMD 2025 from LSOAs to wards (geo.deprivation), and the ward_deprivation rows `flask geo load` keeps."""

from __future__ import annotations

import csv
import json
import statistics
from collections import Counter, defaultdict
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from app.hotspots.models import WardDeprivation
from geo.deprivation import WardImd, aggregate, assign_lsoas, ward_deprivation
from tests.conftest import GEO_DATA_DIR

FOLESHILL = "E05001222"


def features(name: str) -> list[dict[str, Any]]:
    with (GEO_DATA_DIR / name).open(encoding="utf-8") as fh:
        found: list[dict[str, Any]] = json.load(fh)["features"]
    return found


def square(code_key: str, code: str, x0: float, y0: float, x1: float, y1: float, **props: Any) -> dict[str, Any]:
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    geometry = {"type": "Polygon", "coordinates": [ring]}
    return {"type": "Feature", "properties": {code_key: code, **props}, "geometry": geometry}


# Two wards side by side: W2 on the left (x 0-1), W1 on the right (x 1-2), a gap above y = 1.
WARDS = [square("ward_code", "W2", 0, 0, 1, 1), square("ward_code", "W1", 1, 0, 2, 1)]


def test_an_lsoa_goes_to_the_ward_holding_most_of_it() -> None:
    """Does a straddling LSOA go to the ward with the larger share, and an even split to the lower code?"""
    lsoas = [
        square("lsoa21_code", "mostly-left", 0.2, 0.2, 1.3, 0.8),  # 0.8 of its width in W2
        square("lsoa21_code", "inside-right", 1.2, 0.2, 1.8, 0.8),
        square("lsoa21_code", "even", 0.5, 0.2, 1.5, 0.8),  # half in each: the lower code, W1
        square("lsoa21_code", "in-the-gap", 1.6, 1.1, 1.9, 1.3),  # overlaps no ward: the nearest
    ]
    assert assign_lsoas(lsoas, WARDS) == {"mostly-left": "W2", "inside-right": "W1", "even": "W1", "in-the-gap": "W1"}
    assert assign_lsoas(lsoas, list(reversed(WARDS))) == assign_lsoas(lsoas, WARDS)  # file order does not matter
    with pytest.raises(ValueError, match="no wards"):
        assign_lsoas(lsoas, [])


def test_aggregate_counts_each_lsoa_equally() -> None:
    """Are the mean score, median decile (a half when even) and decile-1 count taken over LSOAs, unweighted?"""
    lsoas = [
        square("lsoa21_code", code, 0, 0, 1, 1, imd2025_score=score, imd2025_decile=decile)
        for code, score, decile in [("a", 50.0, 1), ("b", 40.0, 1), ("c", 20.0, 4), ("d", 10.0, 7), ("e", 5.0, 9)]
    ]
    result = aggregate(lsoas, {"a": "W2", "b": "W2", "c": "W2", "d": "W2", "e": "W1"})
    # W2: scores 50, 40, 20, 10 → mean 30; deciles 1, 1, 4, 7 → median (1 + 4)/2 = 2.5; two in decile 1
    assert result == {
        "W1": WardImd(ward_code="W1", lsoa_count=1, mean_score=5.0, median_decile=9.0, most_deprived_count=0),
        "W2": WardImd(ward_code="W2", lsoa_count=4, mean_score=30.0, median_decile=2.5, most_deprived_count=2),
    }
    with pytest.raises(KeyError):
        aggregate(lsoas, {"a": "W2"})


def test_every_coventry_lsoa_is_assigned_to_a_ward() -> None:
    """Are all 203 LSOAs assigned, once each, and does every one of the 18 wards get some?"""
    lsoas = features("lsoa21_imd2025.geojson")
    wards = features("wards.geojson")
    assignment = assign_lsoas(lsoas, wards)
    assert len(lsoas) == 203
    assert set(assignment) == {f["properties"]["lsoa21_code"] for f in lsoas}
    assert set(assignment.values()) == {f["properties"]["ward_code"] for f in wards}
    result = ward_deprivation(lsoas, wards)
    assert len(result) == 18
    assert sum(w.lsoa_count for w in result.values()) == 203


def test_assignment_agrees_with_where_the_postcodes_are() -> None:
    """Does nearly every LSOA go to the ward holding most of its postcodes (an independent source)?"""
    postcodes: dict[str, Counter[str]] = defaultdict(Counter)
    with (GEO_DATA_DIR / "postcodes.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            postcodes[row["lsoa21_code"]][row["ward_code"]] += 1
    assignment = assign_lsoas(features("lsoa21_imd2025.geojson"), features("wards.geojson"))
    disagree = {code for code, ward in assignment.items() if postcodes[code].most_common(1)[0][0] != ward}
    # The two that differ are near-even splits: E01009710 has 13 postcodes in each of two wards,
    # E01009649 11 against 8 (64% of its area is in the ward with 8).
    assert disagree <= {"E01009710", "E01009649"}
    # the case the representative-point rule got wrong: 21 of its 22 postcodes are in Foleshill
    assert assignment["E01009575"] == FOLESHILL


def test_foleshill_by_hand() -> None:
    """Does Foleshill get the 13 LSOAs counted by hand, with their mean score, median decile and decile-1 count?"""
    # The LSOAs whose area lies mostly in Foleshill, with score and decile from lsoa21_imd2025.csv:
    hand = {
        "E01009564": (48.353, 1),
        "E01009565": (41.896, 2),
        "E01009566": (49.183, 1),
        "E01009567": (66.503, 1),
        "E01009568": (38.684, 2),
        "E01009569": (57.262, 1),
        "E01009570": (46.432, 1),
        "E01009571": (67.838, 1),
        "E01009573": (55.648, 1),
        "E01009574": (69.384, 1),
        "E01009575": (48.651, 1),
        "E01034735": (20.025, 5),
        "E01034736": (54.225, 1),
    }
    # Sum of scores: 48.353 + 41.896 + 49.183 + 66.503 + 38.684 + 57.262 + 46.432 + 67.838
    #   + 55.648 + 69.384 + 48.651 + 20.025 + 54.225 = 664.084; mean 664.084/13 = 51.083385.
    # Deciles sorted: 1 ×10, 2, 2, 5: the 7th of 13 is 1. In decile 1: 10.
    with (GEO_DATA_DIR / "lsoa21_imd2025.csv").open(encoding="utf-8", newline="") as fh:
        csv_rows = {r["lsoa21_code"]: (float(r["imd2025_score"]), int(r["imd2025_decile"])) for r in csv.DictReader(fh)}
    assert {code: csv_rows[code] for code in hand} == hand
    assert statistics.fmean(score for score, _ in hand.values()) == pytest.approx(51.083385, abs=1e-6)

    lsoas = features("lsoa21_imd2025.geojson")
    assignment = assign_lsoas(lsoas, features("wards.geojson"))
    assert {code for code, ward in assignment.items() if ward == FOLESHILL} == set(hand)
    foleshill = aggregate(lsoas, assignment)[FOLESHILL]
    assert (foleshill.lsoa_count, foleshill.median_decile, foleshill.most_deprived_count) == (13, 1.0, 10)
    assert foleshill.mean_score == pytest.approx(51.083385, abs=1e-6)


def _rows(session: Session) -> dict[str, tuple[int, float, float, int]]:
    return {
        row.ward_code: (row.lsoa_count, round(row.mean_score, 6), row.median_decile, row.most_deprived_count)
        for row in session.scalars(sa.select(WardDeprivation))
    }


def test_loaded_geography_has_ward_deprivation(db_session: Session) -> None:
    """Does the loaded reference geography (as `make run` and the tests load it) include IMD for all 18 wards?"""
    rows = _rows(db_session)
    assert len(rows) == 18
    assert sum(r[0] for r in rows.values()) == 203
    assert rows[FOLESHILL] == (13, 51.083385, 1.0, 10)
    # Wainbody, the least deprived ward: 8 LSOAs, deciles 6, 8, 9, 9, 10, 10, 10, 10 → median 9.5
    assert rows["E05001231"][0] == 8 and rows["E05001231"][2] == 9.5 and rows["E05001231"][3] == 0


def test_geo_load_replaces_ward_deprivation(app: Flask, db_session: Session) -> None:
    """Does `flask geo load` put back edited rows and remove stray ones, leaving exactly the 18 wards?"""
    before = _rows(db_session)
    db_session.execute(sa.update(WardDeprivation).where(WardDeprivation.ward_code == FOLESHILL).values(lsoa_count=99))
    db_session.add(
        WardDeprivation(ward_code="E05999999", lsoa_count=1, mean_score=1.0, median_decile=1.0, most_deprived_count=1)
    )
    db_session.flush()
    result = app.test_cli_runner().invoke(args=["geo", "load"])
    assert result.exit_code == 0, result.output
    assert "IMD 2025 for 18 wards from 203 LSOAs" in result.output
    db_session.expire_all()
    assert _rows(db_session) == before
