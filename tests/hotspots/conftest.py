"""Fixtures shared by the ward dashboard's tests (app/hotspots).

``hex_count`` writes ``HexCount`` rows directly, for unit tests of what reads them (the
analysis, the dashboard) without going through reports; tests of how the counts are *kept*
use real reports through ``make_report`` instead (tests/hotspots/test_counts*.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import h3
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.hotspots.models import CITY_RESOLUTION, WARD_RESOLUTION, HexCount
from app.reports.models import Category
from tests.partners.conftest import make_organisation  # noqa: F401  (a fixture: organisations with coverage)

# Points inside two wards, checked against the ward data (tests/hotspots/test_analysis.py).
ST_MICHAELS = "E05001228"
ST_MICHAELS_POINT = (-1.508383, 52.407526)  # lon, lat: the Council House, CV1 5RR
FOLESHILL = "E05001222"
FOLESHILL_POINT = (-1.4958, 52.4270)


def cell9_at(lon: float, lat: float) -> int:
    """The resolution-9 H3 cell of a point, as the int that ``HexCount.cell9`` stores."""
    return int(h3.str_to_int(h3.latlng_to_cell(lat, lon, WARD_RESOLUTION)))


def cell8_of(cell9: int) -> int:
    """The resolution-8 parent of a resolution-9 cell, as ``HexCount.cell8`` stores it."""
    return int(h3.str_to_int(h3.cell_to_parent(h3.int_to_str(cell9), CITY_RESOLUTION)))


@pytest.fixture
def hex_count(db_session: Session) -> Callable[..., HexCount]:
    """``hex_count(day=, ward=, category=slug, cell9=, n=1, status="new")``: add ``n`` to the
    count of one cell × category × status × ward × day (creating the row if needed) and return
    the row. ``cell9`` defaults to the cell of a point in the ward's constant above."""

    def add(
        *,
        day: dt.date,
        ward: str = ST_MICHAELS,
        category: str = "fly-tipping",
        cell9: int | None = None,
        n: int = 1,
        status: str = "new",
    ) -> HexCount:
        if cell9 is None:
            cell9 = cell9_at(*(FOLESHILL_POINT if ward == FOLESHILL else ST_MICHAELS_POINT))
        category_id = db_session.scalar(sa.select(Category.id).where(Category.slug == category))
        assert category_id is not None, category
        key = {"day": day, "ward_code": ward, "category_id": category_id, "status": status, "cell9": cell9}
        row = db_session.get(HexCount, key)
        if row is None:
            row = HexCount(**key, cell8=cell8_of(cell9), n=n)
            db_session.add(row)
        else:
            row.n += n
        db_session.flush()
        return row

    return add
