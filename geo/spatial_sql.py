"""Spatial SQL that runs on PostGIS and SpatiaLite alike.

The two differ in how a spatial index is reached: PostGIS's planner uses a GiST index for
``&&`` by itself, while SpatiaLite's R*Tree is only reached through its ``SpatialIndex``
virtual table. Every query in TellUs that filters by area goes through ``index_filter``.
"""

from __future__ import annotations

import math
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from geo.bbox import BBox
from geo.coords import Point

SRID = 4326


def point_expr(point: Point) -> ColumnElement[bytes]:
    """A SQL geometry for ``point`` in WGS84."""
    return sa.func.ST_GeomFromText(sa.literal(point.wkt()), SRID)


def envelope_expr(dialect: str, box: BBox) -> ColumnElement[bytes]:
    """A SQL rectangle for ``box`` in WGS84."""
    if dialect == "sqlite":
        return sa.func.BuildMbr(box.min_lon, box.min_lat, box.max_lon, box.max_lat, SRID)
    return sa.func.ST_MakeEnvelope(box.min_lon, box.min_lat, box.max_lon, box.max_lat, SRID)


def index_filter(dialect: str, table: sa.Table, column: str, box: BBox) -> ColumnElement[bool]:
    """A WHERE clause, served by the spatial index, for rows whose ``column`` bbox meets ``box``.

    It compares bounding boxes only, as the index does; for points that is exact.
    """
    geom = table.c[column]
    if dialect == "sqlite":
        frame = envelope_expr(dialect, box)
        subquery: sa.Select[Any] = (
            sa.select(sa.literal_column("rowid"))
            .select_from(sa.text("SpatialIndex"))
            .where(
                sa.literal_column("f_table_name") == sa.literal(table.name, sa.String()),
                sa.literal_column("f_geometry_column") == sa.literal(column, sa.String()),
                sa.literal_column("search_frame") == frame,
            )
        )
        return table.c.id.in_(subquery)
    return geom.op("&&")(envelope_expr(dialect, box))


def distance_m(dialect: str, geom: ColumnElement[bytes], point: Point) -> ColumnElement[float]:
    """Geodesic distance in metres from ``geom`` to ``point`` (0 when it contains the point)."""
    if dialect == "sqlite":
        return sa.func.ST_Distance(geom, point_expr(point), 1)
    return sa.func.ST_Distance(sa.func.geography(geom), sa.func.geography(point_expr(point)))


# Metres per degree of latitude is 110,574 at the equator and more towards the poles, so this
# smaller figure always gives a box at least as big as the distance asked for.
_M_PER_DEGREE = 110_000.0


def box_around(point: Point, metres: float) -> BBox:
    """A box that surely contains every point within ``metres`` of ``point`` (with a 10%
    margin; a candidate filter, not the answer). Raises ValueError for a negative distance."""
    if metres < 0:
        raise ValueError(f"A distance cannot be negative: {metres}")
    reach = metres * 1.1
    dlat = reach / _M_PER_DEGREE
    widest = min(89.0, abs(point.lat) + dlat)
    dlon = reach / (_M_PER_DEGREE * math.cos(math.radians(widest)))
    return BBox(point.lon - dlon, point.lat - dlat, point.lon + dlon, point.lat + dlat)


def within_m(dialect: str, table: sa.Table, column: str, point: Point, metres: float) -> ColumnElement[bool]:
    """A WHERE clause for rows whose ``column`` is within ``metres`` (geodesic, inclusive) of
    ``point``: a box around it through the spatial index, then the exact distance
    (``distance_m``). Raises ValueError for a negative distance."""
    return sa.and_(
        index_filter(dialect, table, column, box_around(point, metres)),
        distance_m(dialect, table.c[column], point) <= metres,
    )
