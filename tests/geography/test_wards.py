"""Ward lookup against the real ward boundaries, on both databases."""

from __future__ import annotations

import math

import pytest
from sqlalchemy.orm import Session

from app.geography.services import ward_for_point
from geo.coords import Point, validate_point
from geo.errors import InvalidCoordinates, OutsideCoventry

# A shared vertex of Bablake (E05001218) and Holbrook (E05001224), from wards.geojson.
SHARED_VERTEX = Point(lon=-1.51977, lat=52.4534)
# The midpoint of a shared edge between Binley and Willenhall and Cheylesmore.
EDGE_A = (-1.47195, 52.39361)
EDGE_B = (-1.47619, 52.39192)


def test_point_inside_a_ward_gets_that_ward(db_session: Session) -> None:
    """Does a point well inside Foleshill get Foleshill, with distance 0?"""
    match = ward_for_point(db_session, Point(lon=-1.4966, lat=52.4300))
    assert (match.code, match.name, match.vintage) == ("E05001222", "Foleshill", "2025-05")
    assert match.distance_m == 0


def test_council_house_is_in_st_michaels(db_session: Session) -> None:
    """Does the CV1 5RR centroid fall in St Michael's, as the postcode data says?"""
    assert ward_for_point(db_session, Point(lon=-1.508383, lat=52.407526)).code == "E05001228"


def test_point_on_a_shared_edge_gets_one_of_the_two_wards_deterministically(db_session: Session) -> None:
    """Is a point exactly on a shared edge given the lower-coded of the touching wards, every time?"""
    mid = Point(lon=(EDGE_A[0] + EDGE_B[0]) / 2, lat=(EDGE_A[1] + EDGE_B[1]) / 2)
    first = ward_for_point(db_session, mid)
    assert first.code == "E05001219"
    assert ward_for_point(db_session, mid).code == first.code
    assert first.distance_m < 1


def test_point_at_a_shared_vertex(db_session: Session) -> None:
    """Does a vertex shared by Bablake and Holbrook resolve to Bablake (the lower code)?"""
    assert ward_for_point(db_session, SHARED_VERTEX).code == "E05001218"


def test_point_just_outside_the_edge_takes_nearest_ward_within_50m(db_session: Session) -> None:
    """Is a point ~30 m outside the city's northern tip given the nearest ward?"""
    # Bablake's northernmost vertex is (-1.53994, 52.4648); go ~30 m further north.
    match = ward_for_point(db_session, Point(lon=-1.53994, lat=52.4648 + 30 / 111_320))
    assert match.code == "E05001218"
    assert 20 < match.distance_m <= 50


def test_point_more_than_50m_outside_is_refused(db_session: Session) -> None:
    """Is a point ~80 m beyond the edge refused with a plain-words message?"""
    with pytest.raises(OutsideCoventry, match="outside Coventry"):
        ward_for_point(db_session, Point(lon=-1.53994, lat=52.4648 + 80 / 111_320))


def test_point_far_away_is_refused(db_session: Session) -> None:
    """Is Birmingham (outside Coventry) refused?"""
    with pytest.raises(OutsideCoventry, match="choose a place inside the city boundary"):
        ward_for_point(db_session, Point(lon=-1.8904, lat=52.4862))


@pytest.mark.parametrize(
    ("lon", "lat", "message"),
    [
        (math.nan, 52.4, "finite"),
        (-1.5, math.nan, "finite"),
        (math.inf, 52.4, "finite"),
        (-1.5, -math.inf, "finite"),
        (-1.5, 91, "between -90 and 90"),
        (181, 52.4, "between -180 and 180"),
        ("abc", 52.4, "must be a number"),
        ("", 52.4, "Enter a longitude"),
        (None, 52.4, "Enter a longitude"),
        (-1.5, True, "must be a number"),
    ],
)
def test_invalid_coordinates_are_refused(lon: object, lat: object, message: str) -> None:
    """Are NaN, infinity, out-of-range and non-numeric coordinates refused with a clear message?"""
    with pytest.raises(InvalidCoordinates, match=message):
        validate_point(lon, lat)


def test_valid_coordinates_from_strings() -> None:
    """Are coordinates posted as strings accepted and converted?"""
    assert validate_point("-1.5", " 52.4 ") == Point(lon=-1.5, lat=52.4)
