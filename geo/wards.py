"""Which ward a point is in: the rule every report, alert and API call uses."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from geo.bbox import BBox
from geo.coords import Point
from geo.errors import OutsideCoventry
from geo.spatial_sql import distance_m, index_filter

# A point in a gap between generalised ward outlines, or on a shared edge, takes the
# nearest ward within this distance. The ONS outlines are generalised to about 20 m, and
# the city's outer edge is up to 25 m outside them, so 50 m covers both with room to spare.
NEAREST_WARD_M = 50.0
# Degrees that are surely more than 50 m at Coventry's latitude, to pick candidates.
_SEARCH_LAT = 0.0006
_SEARCH_LON = 0.0010

OUTSIDE_MESSAGE = (
    "That place is outside Coventry. TellUs covers the Coventry City Council area only: "
    "choose a place inside the city boundary shown on the map."
)


@dataclass(frozen=True, slots=True)
class WardMatch:
    code: str
    name: str
    vintage: str
    distance_m: float


def find_ward(session: Session, wards: sa.Table, point: Point) -> WardMatch:
    """Return the ward containing ``point``, or else the nearest within 50 m.

    Ties (a point exactly on a shared edge) go to the lowest ward code, so the answer is
    always the same. Raises OutsideCoventry if no ward is within 50 m.
    """
    dialect = session.get_bind().dialect.name
    box = BBox(point.lon - _SEARCH_LON, point.lat - _SEARCH_LAT, point.lon + _SEARCH_LON, point.lat + _SEARCH_LAT)
    distance = distance_m(dialect, wards.c.geom, point).label("distance")
    candidates = (
        sa.select(wards.c.code, wards.c.name, wards.c.vintage, distance)
        .where(index_filter(dialect, wards, "geom", box))
        .subquery()
    )
    row = session.execute(
        sa.select(candidates)
        .where(candidates.c.distance <= NEAREST_WARD_M)
        .order_by(candidates.c.distance, candidates.c.code)
        .limit(1)
    ).first()
    if row is None:
        raise OutsideCoventry(OUTSIDE_MESSAGE)
    return WardMatch(code=row.code, name=row.name, vintage=row.vintage, distance_m=float(row.distance))
