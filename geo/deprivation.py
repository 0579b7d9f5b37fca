"""The English Indices of Deprivation 2025 (IMD 2025) for Coventry's wards, from its LSOAs.

IMD 2025 is published for LSOAs (2021 Lower-layer Super Output Areas, about 1,500 residents
each), not for wards, and LSOA and ward boundaries do not nest. Each LSOA is given wholly to one
ward: the one that holds the largest part of its area (``assign_lsoas`` says why not simply
the ward containing a representative point). Per ward we then report how many LSOAs it got,
their mean IMD score, their median national decile and how many are in England's most deprived
10% (decile 1).

Limits: no LSOA populations are shipped, so every LSOA counts equally (they are built to hold
similar numbers of people, 1,000 to 3,000, so the error is small but real); an LSOA that
straddles a ward boundary counts wholly in one ward (172 of Coventry's 203 have at least 90%
of their area in their ward, the least 53%); and the wards are the 2004 pattern
(``wards.geojson``). The method and the data's licence are in docs/hotspots-statistics.md.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shapely import STRtree
from shapely.geometry import shape

MOST_DEPRIVED_DECILE = 1


@dataclass(frozen=True)
class WardImd:
    """IMD 2025 for one ward from its ``lsoa_count`` LSOAs: ``mean_score`` (higher is more
    deprived), ``median_decile`` (national, 1 = most deprived 10%; may be a half) and
    ``most_deprived_count`` (its LSOAs in decile 1)."""

    ward_code: str
    lsoa_count: int
    mean_score: float
    median_decile: float
    most_deprived_count: int


def assign_lsoas(lsoas: Iterable[Mapping[str, Any]], wards: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Return ``{lsoa21_code: ward_code}``: the ward holding the largest part of each LSOA's area.

    ``lsoas`` and ``wards`` are GeoJSON features (``lsoa21_imd2025.geojson`` with property
    ``lsoa21_code``, ``wards.geojson`` with ``ward_code``). Equal shares go to the lowest ward
    code, so the answer never depends on file order. An LSOA that overlaps no ward at all goes to
    the ward nearest its representative point (``point_on_surface``, a point surely inside it).
    Areas are compared in degrees², which is fair within one LSOA (its parts share a latitude).

    Why area, not the ward containing a representative point: for Coventry's LSOAs the two
    agree for 201 of 203, and in the other two the point lands in the smaller part (E01009575:
    56% of its area and 21 of its 22 postcodes are in Foleshill, its point in Longford).
    Raises KeyError if a feature lacks its code property and ValueError if there are no wards.
    """
    ward_list = sorted(((str(f["properties"]["ward_code"]), shape(f["geometry"])) for f in wards), key=lambda w: w[0])
    if not ward_list:
        raise ValueError("there are no wards to assign LSOAs to")
    tree = STRtree([geom for _, geom in ward_list])
    assignment: dict[str, str] = {}
    for feature in lsoas:
        code = str(feature["properties"]["lsoa21_code"])
        lsoa = shape(feature["geometry"])
        shares = [(lsoa.intersection(ward_list[int(i)][1]).area, -int(i)) for i in tree.query(lsoa, "intersects")]
        area, negative_index = max(shares, default=(0.0, 0))
        index = -negative_index if area > 0 else int(tree.nearest(lsoa.point_on_surface()))
        assignment[code] = ward_list[index][0]
    return assignment


def aggregate(lsoas: Iterable[Mapping[str, Any]], assignment: Mapping[str, str]) -> dict[str, WardImd]:
    """Return ``{ward_code: WardImd}`` from LSOA features and their ward ``assignment``.

    Each LSOA counts once and equally (no populations are available to weight them). Wards with
    no LSOA get no entry. Raises KeyError if an LSOA is missing from ``assignment`` or lacks
    ``imd2025_score`` or ``imd2025_decile``.
    """
    by_ward: dict[str, list[tuple[float, int]]] = {}
    for feature in lsoas:
        props = feature["properties"]
        ward = assignment[str(props["lsoa21_code"])]
        by_ward.setdefault(ward, []).append((float(props["imd2025_score"]), int(props["imd2025_decile"])))
    result: dict[str, WardImd] = {}
    for ward, rows in sorted(by_ward.items()):
        scores = [score for score, _ in rows]
        deciles = [decile for _, decile in rows]
        result[ward] = WardImd(
            ward_code=ward,
            lsoa_count=len(rows),
            mean_score=statistics.fmean(scores),
            median_decile=float(statistics.median(deciles)),
            most_deprived_count=sum(1 for d in deciles if d == MOST_DEPRIVED_DECILE),
        )
    return result


def ward_deprivation(lsoas: Iterable[Mapping[str, Any]], wards: Iterable[Mapping[str, Any]]) -> dict[str, WardImd]:
    """Return ``{ward_code: WardImd}``: ``assign_lsoas`` then ``aggregate``. Raises as they do."""
    lsoa_list = list(lsoas)
    return aggregate(lsoa_list, assign_lsoas(lsoa_list, wards))
