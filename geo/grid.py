"""The square grids that the map's clusters are counted on.

Level 0 cells are 0.0003125 degrees (about 21 x 35 m at Coventry); each level doubles the
cell size, up to level 7 at 0.04 degrees (about 2.7 x 4.4 km). Counts per cell are kept
ahead of time (see ``app.reports.aggregates``), so a map view at any zoom reads at most a
few hundred cells instead of clustering every report on the fly.
"""

from __future__ import annotations

import datetime as dt
import math

from geo.bbox import BBox

BASE_CELL = 0.0003125
LEVELS = tuple(range(8))
# At most about this many cells in a view: small enough to keep a response well under
# 200 KB, fine enough that clusters still show where reports are.
TARGET_CELLS = 400


def cell_size(level: int) -> float:
    """Return the edge length in degrees of cells at ``level``."""
    return BASE_CELL * (2**level)


def cell_of(lon: float, lat: float, level: int) -> tuple[int, int]:
    """Return the integer (x, y) index of the cell at ``level`` containing the point."""
    size = cell_size(level)
    return math.floor(lon / size), math.floor(lat / size)


def cell_range(box: BBox, level: int) -> tuple[int, int, int, int]:
    """Return (min_x, min_y, max_x, max_y): the cells at ``level`` that touch ``box``."""
    min_x, min_y = cell_of(box.min_lon, box.min_lat, level)
    max_x, max_y = cell_of(box.max_lon, box.max_lat, level)
    return min_x, min_y, max_x, max_y


def choose_level(box: BBox, target_cells: int = TARGET_CELLS) -> int:
    """Return the finest level at which ``box`` spans no more than ``target_cells`` cells."""
    for level in LEVELS:
        min_x, min_y, max_x, max_y = cell_range(box, level)
        if (max_x - min_x + 1) * (max_y - min_y + 1) <= target_cells:
            return level
    return LEVELS[-1]


def period_of(moment: dt.datetime) -> int:
    """Return the month of a UTC timestamp as ``YYYYMM``, the time key of the cell counts."""
    moment = moment.astimezone(dt.UTC)
    return moment.year * 100 + moment.month


def month_start(period: int) -> dt.date:
    return dt.date(period // 100, period % 100, 1)


def next_period(period: int) -> int:
    year, month = divmod(period, 100)
    return (year + 1) * 100 + 1 if month == 12 else period + 1


def split_dates(
    start: dt.date | None, end: dt.date | None
) -> tuple[tuple[int, int] | None, list[tuple[dt.date | None, dt.date | None]]]:
    """Split an inclusive date range into whole months and the days around them.

    Returns ``(months, edges)``: ``months`` is an inclusive (first, last) pair of ``YYYYMM``
    periods that lie wholly inside the range (``None`` if there are none), and ``edges``
    lists the inclusive day ranges left over, which must be counted from the reports
    themselves. An open end (``None``) counts as whole months on that side.
    """
    if start is None and end is None:
        return (0, 999999), []
    first = 0 if start is None else (period_of_date(start) if start.day == 1 else next_period(period_of_date(start)))
    if end is None:
        last = 999999
    else:
        following = end + dt.timedelta(days=1)
        last = period_of_date(end) if following.day == 1 else _previous_period(period_of_date(end))
    if first > last:
        return None, [(start, end)]
    edges: list[tuple[dt.date | None, dt.date | None]] = []
    if start is not None and month_start(first) > start:
        edges.append((start, month_start(first) - dt.timedelta(days=1)))
    if end is not None and last != 999999 and month_start(next_period(last)) <= end:
        edges.append((month_start(next_period(last)), end))
    return (first, last), edges


def period_of_date(day: dt.date) -> int:
    return day.year * 100 + day.month


def _previous_period(period: int) -> int:
    year, month = divmod(period, 100)
    return (year - 1) * 100 + 12 if month == 1 else period - 1
