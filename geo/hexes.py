"""H3 hexagonal cells (Uber's H3, https://h3geo.org), as TellUs stores and uses them.

Cells are Python ints (H3's 64-bit index, ``h3.str_to_int`` of the usual hex string), so they
fit a BigInteger column and compare and hash fast. Coordinates go in and come out in GeoJSON
order, (lon, lat), unlike H3's own (lat, lng).

Resolutions (``app.hotspots.models``): 8 for the city (cells of about 0.74 km², 144 cells
have their centre inside Coventry), 9 for one ward (about 0.11 km², 1,041 in the city);
docs/hotspots-statistics.md says why.
"""

from __future__ import annotations

import math
from typing import Any

import h3
import h3.api.basic_int as h3i
from shapely.geometry import shape

from geo.errors import InvalidCoordinates

MAX_RESOLUTION = 15


def _check_resolution(resolution: int) -> None:
    if isinstance(resolution, bool) or not isinstance(resolution, int) or not 0 <= resolution <= MAX_RESOLUTION:
        raise ValueError(f"H3 resolution must be a whole number from 0 to {MAX_RESOLUTION}, not {resolution!r}")


def _check_cell(cell: int) -> None:
    if not h3i.is_valid_cell(cell):
        raise ValueError(f"{cell!r} is not a valid H3 cell")


def cell_of(lon: float, lat: float, resolution: int) -> int:
    """Return the H3 cell at ``resolution`` that contains the point (lon, lat).

    Raises InvalidCoordinates (a ValueError) if a coordinate is not finite or out of range,
    and ValueError if ``resolution`` is not 0 to 15.
    """
    if not (math.isfinite(lon) and math.isfinite(lat)) or not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise InvalidCoordinates(f"({lon}, {lat}) is not a longitude and latitude in range")
    _check_resolution(resolution)
    return int(h3i.latlng_to_cell(lat, lon, resolution))


def parent(cell: int, resolution: int) -> int:
    """Return the cell at the coarser ``resolution`` that contains ``cell`` (itself at its own).

    Raises ValueError if ``cell`` is not a valid cell or ``resolution`` is finer than it.
    """
    _check_cell(cell)
    _check_resolution(resolution)
    if resolution > h3i.get_resolution(cell):
        raise ValueError(f"resolution {resolution} is finer than the cell's ({h3i.get_resolution(cell)})")
    return int(h3i.cell_to_parent(cell, resolution))


def disk(cell: int, k: int) -> list[int]:
    """Return the cells within ``k`` steps of ``cell``: ``cell`` first, then ring 1, ring 2, ...

    A hexagon's disk of radius k has 1 + 3k(k + 1) cells (7 for k = 1, 19 for k = 2); fewer
    only next to one of H3's 12 pentagons (none is near Britain). These are the neighbourhoods
    of the Gi* statistic (``geo.hotspot_stats``). Raises ValueError if ``cell`` is not valid or
    ``k`` is negative.
    """
    _check_cell(cell)
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise ValueError(f"k must be a whole number of rings, 0 or more, not {k!r}")
    cells = [cell]
    try:
        for ring in range(1, k + 1):
            cells.extend(int(c) for c in h3i.grid_ring(cell, ring))
    except h3.H3BaseException:
        # Near a pentagon rings may be undefined; the disk still is. Its cells are then ordered
        # by distance where H3 can measure it, and the order of the rest does not matter to Gi*.
        rest = [int(c) for c in h3i.grid_disk(cell, k) if c != cell]
        return [cell, *sorted(rest)]
    return cells


def boundary(cell: int) -> list[tuple[float, float]]:
    """Return the cell's outline as a closed ring of (lon, lat): the first vertex repeated last.

    Raises ValueError if ``cell`` is not valid.
    """
    _check_cell(cell)
    ring = [(lng, lat) for lat, lng in h3i.cell_to_boundary(cell)]
    return [*ring, ring[0]]


def centre(cell: int) -> tuple[float, float]:
    """Return the cell's centre as (lon, lat). Raises ValueError if ``cell`` is not valid."""
    _check_cell(cell)
    lat, lng = h3i.cell_to_latlng(cell)
    return lng, lat


def cells_covering(geometry: dict[str, Any], resolution: int) -> set[int]:
    """Return the cells at ``resolution`` whose centres lie inside a GeoJSON Polygon or MultiPolygon.

    This is H3's own polygon fill (``geo_to_cells``): each cell belongs to exactly one of a
    set of polygons that tile an area (the wards tile the city), so studies of neighbouring
    wards never count a cell twice. A cell whose centre is outside but which still overlaps the
    edge is left out; callers that count reports add the cells that hold reports, so no report
    is lost from a study area (``app.hotspots.analysis``). A polygon too small to hold any cell
    centre gets the one cell containing a point inside it, so the result is never empty.

    Raises ValueError if ``geometry`` is not a Polygon or MultiPolygon or ``resolution`` is not
    0 to 15.
    """
    _check_resolution(resolution)
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if kind not in ("Polygon", "MultiPolygon"):
        raise ValueError(f"cells_covering needs a GeoJSON Polygon or MultiPolygon, not {kind!r}")
    cells = {int(c) for c in h3i.geo_to_cells(geometry, resolution)}
    if not cells:
        inside = shape(geometry).representative_point()
        cells.add(cell_of(inside.x, inside.y, resolution))
    return cells
