"""H3 cell helpers (geo.hexes): ints in, ints out, (lon, lat) order, Coventry's real outlines."""

from __future__ import annotations

import json
from typing import Any

import h3
import pytest
from shapely.geometry import Point as ShapelyPoint
from shapely.geometry import Polygon, shape

from geo.errors import InvalidCoordinates
from geo.hexes import boundary, cell_of, cells_covering, centre, disk, parent
from tests.conftest import COUNCIL_HOUSE, GEO_DATA_DIR


def features(name: str) -> list[dict[str, Any]]:
    with (GEO_DATA_DIR / name).open(encoding="utf-8") as fh:
        found: list[dict[str, Any]] = json.load(fh)["features"]
    return found


def city() -> dict[str, Any]:
    geometry: dict[str, Any] = features("coventry_boundary.geojson")[0]["geometry"]
    return geometry


def test_cell_of_is_h3s_cell_as_an_int() -> None:
    """Is the cell of the Council House H3's own cell, as the int of its hex string?"""
    cell = cell_of(COUNCIL_HOUSE.lon, COUNCIL_HOUSE.lat, 9)
    assert isinstance(cell, int)
    assert h3.int_to_str(cell) == h3.latlng_to_cell(COUNCIL_HOUSE.lat, COUNCIL_HOUSE.lon, 9)
    assert h3.str_to_int(h3.int_to_str(cell)) == cell
    assert h3.get_resolution(h3.int_to_str(cell)) == 9


def test_centre_round_trips_and_is_lon_lat() -> None:
    """Does a cell's centre lie back in the same cell, given as (lon, lat) near Coventry?"""
    cell = cell_of(COUNCIL_HOUSE.lon, COUNCIL_HOUSE.lat, 8)
    lon, lat = centre(cell)
    assert -1.6 < lon < -1.4 and 52.3 < lat < 52.5
    assert cell_of(lon, lat, 8) == cell
    # a resolution-8 cell is about 0.92 km across, so its centre is within about 600 m of the point
    assert abs(lon - COUNCIL_HOUSE.lon) < 0.01 and abs(lat - COUNCIL_HOUSE.lat) < 0.006


def test_parent_is_the_coarser_cell_containing_the_point() -> None:
    """Is the resolution-8 parent of a point's resolution-9 cell the point's resolution-8 cell?"""
    for lon, lat in [(COUNCIL_HOUSE.lon, COUNCIL_HOUSE.lat), (-1.4966, 52.4300), (-1.5650, 52.3830)]:
        nine = cell_of(lon, lat, 9)
        assert parent(nine, 8) == cell_of(lon, lat, 8)
        assert parent(nine, 9) == nine
    with pytest.raises(ValueError, match="finer"):
        parent(cell_of(COUNCIL_HOUSE.lon, COUNCIL_HOUSE.lat, 8), 9)


def test_disk_lists_the_cell_then_its_rings() -> None:
    """Does disk(cell, k) give the cell first, its 6 touching cells next, then the 12 of ring 2?"""
    cell = cell_of(COUNCIL_HOUSE.lon, COUNCIL_HOUSE.lat, 9)
    assert disk(cell, 0) == [cell]
    one = disk(cell, 1)
    two = disk(cell, 2)
    assert len(one) == 7 and len(set(one)) == 7 and one[0] == cell
    assert all(h3.are_neighbor_cells(h3.int_to_str(cell), h3.int_to_str(c)) for c in one[1:])
    assert len(two) == 19 and two[:7] == one
    assert {h3.grid_distance(h3.int_to_str(cell), h3.int_to_str(c)) for c in two[7:]} == {2}
    assert set(two) == {h3.str_to_int(c) for c in h3.grid_disk(h3.int_to_str(cell), 2)}
    with pytest.raises(ValueError, match="k must be"):
        disk(cell, -1)


def test_disk_next_to_a_pentagon_is_still_the_whole_disk() -> None:
    """Near one of H3's pentagons (5 neighbours), is the disk still every cell within k, cell first?"""
    pentagon = h3.str_to_int(h3.get_pentagons(8)[0])
    cells = disk(pentagon, 2)
    assert cells[0] == pentagon
    assert set(cells) == {h3.str_to_int(c) for c in h3.grid_disk(h3.int_to_str(pentagon), 2)}
    assert len(cells) == len(set(cells)) < 19


def test_boundary_is_a_closed_lon_lat_ring_around_the_centre() -> None:
    """Is the outline a closed ring of 6 (lon, lat) vertices that contains the cell's centre?"""
    cell = cell_of(COUNCIL_HOUSE.lon, COUNCIL_HOUSE.lat, 9)
    ring = boundary(cell)
    assert len(ring) == 7 and ring[0] == ring[-1]
    assert all(-1.6 < lon < -1.4 and 52.3 < lat < 52.5 for lon, lat in ring)
    polygon = Polygon(ring)
    assert polygon.is_valid
    assert polygon.contains(ShapelyPoint(*centre(cell)))
    assert polygon.contains(ShapelyPoint(COUNCIL_HOUSE.lon, COUNCIL_HOUSE.lat))


def test_cells_covering_the_city_are_those_with_centres_inside() -> None:
    """Are the city's resolution-8 cells exactly those whose centres are inside the boundary (144)?"""
    outline = shape(city())
    cells = cells_covering(city(), 8)
    assert len(cells) == 144
    assert all(outline.contains(ShapelyPoint(*centre(c))) for c in cells)
    # every cell next to the covered ones but not covered has its centre outside
    rim = {n for c in cells for n in disk(c, 1)} - cells
    assert rim and not any(outline.contains(ShapelyPoint(*centre(c))) for c in rim)
    assert all(h3.get_resolution(h3.int_to_str(c)) == 8 for c in cells)


def test_ward_cells_do_not_overlap_and_tile_the_city() -> None:
    """Do the 18 wards' resolution-9 cells never overlap, and together match the city's cells?"""
    seen: set[int] = set()
    for feature in features("wards.geojson"):
        cells = cells_covering(feature["geometry"], 9)
        assert cells, feature["properties"]["ward_name"]
        assert not cells & seen
        seen |= cells
    city_cells = cells_covering(city(), 9)
    # the ward outlines are generalised to about 20 m, the city's is full resolution, so a few
    # cells whose centres sit right on the edge may differ
    assert len(seen ^ city_cells) <= 0.01 * len(city_cells)


def test_a_polygon_smaller_than_a_cell_still_gets_one() -> None:
    """Does a polygon too small to hold any cell centre get the one cell it lies in?"""
    lon, lat = COUNCIL_HOUSE.lon, COUNCIL_HOUSE.lat
    ring = [[lon, lat], [lon + 0.0002, lat], [lon + 0.0002, lat + 0.0001], [lon, lat + 0.0001], [lon, lat]]
    tiny = {"type": "Polygon", "coordinates": [ring]}
    assert cells_covering(tiny, 8) == {cell_of(lon + 0.0001, lat + 0.00005, 8)}
    multi = {"type": "MultiPolygon", "coordinates": [tiny["coordinates"]]}
    assert cells_covering(multi, 8) == cells_covering(tiny, 8)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: cell_of(float("nan"), 52.4, 9), InvalidCoordinates, "not a longitude and latitude"),
        (lambda: cell_of(-1.5, 95.0, 9), InvalidCoordinates, "not a longitude and latitude"),
        (lambda: cell_of(-1.5, 52.4, 16), ValueError, "resolution must be"),
        (lambda: centre(5), ValueError, "not a valid H3 cell"),
        (lambda: boundary(0), ValueError, "not a valid H3 cell"),
        (lambda: cells_covering({"type": "Point", "coordinates": [-1.5, 52.4]}, 9), ValueError, "Polygon"),
    ],
)
def test_bad_input_is_refused_with_a_message(call: Any, error: type[Exception], message: str) -> None:
    """Are bad coordinates, resolutions, cells and geometries refused with a message saying which?"""
    with pytest.raises(error, match=message):
        call()
