"""Coarsening of locations for sensitive categories.

A sensitive report is shown publicly at the centre of the ~500 m grid cell it falls in.
Snapping to a fixed grid (rather than adding random noise) means that repeated reports
from one address can never be averaged back to the true point.
"""

from __future__ import annotations

import math

from geo.coords import Point

# Cell size in degrees: 500 m of latitude, and 500 m of longitude at Coventry (52.4 N).
CELL_LAT = 500 / 111_320
CELL_LON = 500 / (111_320 * math.cos(math.radians(52.4)))


def coarsen(point: Point) -> Point:
    """Return the centre of the ~500 m cell that contains ``point``."""
    cx = math.floor(point.lon / CELL_LON)
    cy = math.floor(point.lat / CELL_LAT)
    return Point(lon=round((cx + 0.5) * CELL_LON, 6), lat=round((cy + 0.5) * CELL_LAT, 6))
