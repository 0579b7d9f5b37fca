"""Pure spatial helpers: bbox parsing, the cluster grid and location coarsening."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from geo.bbox import BBox, parse_bbox
from geo.coarsen import CELL_LAT, CELL_LON, coarsen
from geo.coords import Point
from geo.errors import InvalidBBox
from geo.grid import LEVELS, cell_of, cell_size, choose_level, period_of, split_dates


def test_bbox_parses_leaflet_order() -> None:
    """Is Leaflet's toBBoxString() order (west,south,east,north) parsed as such?"""
    assert parse_bbox("-1.6,52.3,-1.4,52.5") == BBox(-1.6, 52.3, -1.4, 52.5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "bbox is required"),
        ("", "bbox is required"),
        ("1,2,3", "4 comma-separated numbers"),
        ("1,2,3,4,5", "4 comma-separated numbers"),
        ("a,52,-1.4,52.5", "min_lon must be a number"),
        ("-1.6,nan,-1.4,52.5", "min_lat must be a finite number"),
        ("-1.6,52.3,inf,52.5", "max_lon must be a finite number"),
        ("-1.6,52.3,-1.4,95", "max_lat must be between -90 and 90"),
        ("-200,52.3,-1.4,52.5", "min_lon must be between -180 and 180"),
        ("-1.4,52.3,-1.6,52.5", "min_lon must be less than max_lon"),
        ("-1.6,52.5,-1.4,52.5", "min_lat less than max_lat"),
        ("-3,52,-1,53", "too large"),
    ],
)
def test_malformed_or_oversized_bbox_is_refused(text: str | None, message: str) -> None:
    """Is every kind of bad bbox refused with a message that says what to fix?"""
    with pytest.raises(InvalidBBox, match=message):
        parse_bbox(text)


def test_cell_of_floors_negative_longitudes() -> None:
    """Does a negative longitude fall in the cell to its west (floor, not truncation)?"""
    assert cell_of(-0.0001, 0.0001, 0) == (-1, 0)
    assert cell_size(1) == 2 * cell_size(0)


def test_choose_level_keeps_a_view_under_the_cell_budget() -> None:
    """Does the city view get a coarse level and a street view the finest?"""
    city = BBox(-1.6148, 52.3636, -1.4239, 52.4649)
    street = BBox(-1.512, 52.406, -1.503, 52.4096)
    assert choose_level(street) == 0
    level = choose_level(city)
    width = math.floor(city.max_lon / cell_size(level)) - math.floor(city.min_lon / cell_size(level)) + 1
    height = math.floor(city.max_lat / cell_size(level)) - math.floor(city.min_lat / cell_size(level)) + 1
    assert width * height <= 400
    assert level in LEVELS and level > 0


def test_period_is_the_utc_month() -> None:
    """Is a late-evening BST moment on 31 May counted in May (UTC)?"""
    moment = dt.datetime(2026, 5, 31, 22, 30, tzinfo=dt.UTC)
    assert period_of(moment) == 202605


@pytest.mark.parametrize(
    ("start", "end", "months", "edges"),
    [
        (None, None, (0, 999999), []),
        (dt.date(2026, 3, 1), dt.date(2026, 5, 31), (202603, 202605), []),
        (dt.date(2026, 3, 15), dt.date(2026, 5, 31), (202604, 202605), [(dt.date(2026, 3, 15), dt.date(2026, 3, 31))]),
        (dt.date(2026, 3, 1), dt.date(2026, 5, 10), (202603, 202604), [(dt.date(2026, 5, 1), dt.date(2026, 5, 10))]),
        (dt.date(2026, 3, 10), dt.date(2026, 3, 20), None, [(dt.date(2026, 3, 10), dt.date(2026, 3, 20))]),
        (dt.date(2025, 12, 5), None, (202601, 999999), [(dt.date(2025, 12, 5), dt.date(2025, 12, 31))]),
        (None, dt.date(2026, 1, 15), (0, 202512), [(dt.date(2026, 1, 1), dt.date(2026, 1, 15))]),
    ],
)
def test_split_dates_into_whole_months_and_edge_days(start, end, months, edges) -> None:  # type: ignore[no-untyped-def]
    """Is a date range split into whole months (read from the cell counts) and leftover days?"""
    assert split_dates(start, end) == (months, edges)


def test_coarsening_snaps_to_the_centre_of_a_500m_cell() -> None:
    """Is a point moved to its ~500 m cell's centre, the same for every point in the cell?"""
    a = coarsen(Point(-1.5084, 52.4075))
    b = coarsen(Point(-1.5084 + CELL_LON / 10, 52.4075 + CELL_LAT / 10))
    assert a == b or abs(a.lon - b.lon) > CELL_LON / 2  # same cell, or the neighbouring one
    assert abs(a.lon - -1.5084) <= CELL_LON / 2 + 1e-6
    assert abs(a.lat - 52.4075) <= CELL_LAT / 2 + 1e-6
    assert coarsen(a) == a


def test_coarsened_cells_are_about_500m() -> None:
    """Are the coarsening cells about 500 m each way at Coventry's latitude?"""
    assert pytest.approx(500) == CELL_LAT * 111_320
    assert CELL_LON * 111_320 * math.cos(math.radians(52.4)) == pytest.approx(500)
