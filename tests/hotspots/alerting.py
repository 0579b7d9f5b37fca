"""Helpers shared by the alert tests: candidate findings as the nightly analysis makes them."""

from __future__ import annotations

from app.hotspots.findings import Candidate, emerging_key, hotspot_key
from app.hotspots.models import WARD_RESOLUTION, FindingKind
from tests.hotspots.conftest import FOLESHILL, FOLESHILL_POINT, cell9_at

FOLESHILL_CELL = cell9_at(*FOLESHILL_POINT)


def emerging(ward: str = FOLESHILL, category_id: int | None = None, *, z: float = 4.2, summary: str = "") -> Candidate:
    """An emerging problem in ``ward`` × ``category_id``, as ``find_candidates`` would hand it over."""
    return Candidate(
        kind=FindingKind.EMERGING,
        key=emerging_key(ward, category_id, None),
        ward_code=ward,
        category_id=category_id,
        summary=summary or f"Reports in {ward}: 20 reports in the last 4 weeks against about 6 expected",
        current=20,
        expected=6.0,
        z=z,
        trend="rising",
    )


def hotspot(ward: str = FOLESHILL, category_id: int | None = None, *, cell: int = FOLESHILL_CELL) -> Candidate:
    """A resolution-9 hotspot in ``ward``, for ``category_id`` (None: all categories)."""
    return Candidate(
        kind=FindingKind.HOTSPOT,
        key=hotspot_key(ward, category_id, cell),
        ward_code=ward,
        category_id=category_id,
        summary=f"Hotspot in {ward}: 12 reports in the last 12 weeks in one area of about 0.1 km²",
        current=12,
        expected=1.5,
        z=5.1,
        cell=cell,
        resolution=WARD_RESOLUTION,
        p=0.0001,
        confidence=99,
    )
