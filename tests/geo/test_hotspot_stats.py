"""Gi* hot and cold spots with the Benjamini-Hochberg FDR (geo.hotspot_stats), on Coventry's real H3 cells."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pyproj  # noqa: F401  (see below)
import pytest

from geo.hexes import cell_of, cells_covering, disk
from geo.hotspot_stats import FDR_Q, K_RING, MIN_COUNT, CellResult, benjamini_hochberg, gi_star, hotspots
from tests.conftest import COUNCIL_HOUSE, GEO_DATA_DIR

# esda (the reference Gi*) imports geopandas and so pyproj, which bundles its own PROJ library.
# If SpatiaLite's system PROJ is loaded first (the session's test database), the process crashes
# on exit; importing pyproj here, at collection, before any database exists, avoids that.


def _geometry(name: str, index: int = 0) -> dict[str, Any]:
    with (GEO_DATA_DIR / name).open(encoding="utf-8") as fh:
        geometry: dict[str, Any] = json.load(fh)["features"][index]["geometry"]
    return geometry


# The study areas the dashboard uses: the city at resolution 8 (144 cells) and one ward at
# resolution 9 (Bablake, the first ward in the file: 227 cells, many on its edge).
CITY_CELLS = sorted(cells_covering(_geometry("coventry_boundary.geojson"), 8))
WARD_CELLS = sorted(cells_covering(_geometry("wards.geojson", 0), 9))
CENTRE = cell_of(COUNCIL_HOUSE.lon, COUNCIL_HOUSE.lat, 8)


def poisson_area(cells: list[int], mean: float, seed: int) -> dict[int, float]:
    counts = np.random.default_rng(seed).poisson(mean, len(cells))
    return {cell: float(n) for cell, n in zip(cells, counts, strict=True)}


def planted(counts: dict[int, float], centre: int, extra: float) -> dict[int, float]:
    """``counts`` with ``extra`` reports added to ``centre`` and each of its 6 touching cells."""
    return {cell: n + extra if cell in disk(centre, 1) else n for cell, n in counts.items()}


def neighbourhoods(cells: list[int], k: int = K_RING) -> dict[int, list[int]]:
    return {cell: disk(cell, k) for cell in cells}


def esda_z_and_p(cells: list[int], counts: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
    """esda's Gi*: binary weights from the same H3 disks within the area, the diagonal (self) set by star=True."""
    from esda import G_Local  # test-only dependency (the [dev] extra); slow to import
    from libpysal.weights import W

    area = set(cells)
    links = {c: [n for n in disk(c, K_RING) if n in area and n != c] for c in cells}
    weights = W(links, id_order=cells, silence_warnings=True)
    g = G_Local(np.array([counts[c] for c in cells]), weights, transform="B", star=True, permutations=0)
    # esda's p_norm is one-sided: P(Z > |z|)
    return np.asarray(g.Zs), np.asarray(g.p_norm)


@pytest.mark.parametrize(
    ("cells", "counts"),
    [
        # the city with noise and a planted cluster: many zeros, one strong peak
        (CITY_CELLS, planted(poisson_area(CITY_CELLS, 1.5, 7), CENTRE, 10)),
        # a ward at resolution 9, where a third of the cells are on the edge and have fewer
        # neighbours, with a milder cluster
        (WARD_CELLS, planted(poisson_area(WARD_CELLS, 4.0, 8), WARD_CELLS[100], 6)),
    ],
    ids=["city-r8", "ward-r9"],
)
def test_gi_star_equals_esda(cells: list[int], counts: dict[int, float]) -> None:
    """Does gi_star give esda's G_Local(star=True, transform="B") z-scores to 1e-6, and twice its one-sided p?"""
    ours = gi_star(counts, neighbourhoods(cells))
    reference_z, reference_p = esda_z_and_p(cells, counts)
    z = np.array([ours[c][0] for c in cells])
    p = np.array([ours[c][1] for c in cells])
    assert np.max(np.abs(z - reference_z)) < 1e-6
    assert np.max(np.abs(p - 2 * reference_p)) < 1e-9
    assert np.max(np.abs(z)) > 3  # the fixture has real structure, not all z near 0


def test_gi_star_by_hand_on_a_line_of_five_cells() -> None:
    """Does gi_star follow the standardised Gi* of Ord and Getis (1995) on a case worked by hand?"""
    # Five cells in a row, a-b-c-d-e, each a neighbour of the next; counts 0, 2, 8, 2, 0.
    # n = 5, mean = 12/5 = 2.4, S² = Σx²/n − mean² = (0+4+64+4+0)/5 − 5.76 = 14.4 − 5.76 = 8.64, S = 2.939388
    # Cell c: neighbourhood {b, c, d}, W = 3, local sum 12.
    #   z = (12 − 2.4·3) / (2.939388 · √((5·3 − 9)/4)) = 4.8 / (2.939388 · 1.224745) = 4.8 / 3.6 = 1.333333
    # Cell a: neighbourhood {a, b}, W = 2, local sum 2.
    #   z = (2 − 4.8) / (2.939388 · √((10 − 4)/4)) = −2.8 / 3.6 = −0.777778
    a, b, c, d, e = (cell_of(-1.5 + 0.01 * i, 52.4, 9) for i in range(5))
    counts = {a: 0.0, b: 2.0, c: 8.0, d: 2.0, e: 0.0}
    links = {a: [b], b: [a, c], c: [b, d], d: [c, e], e: [d]}
    result = gi_star(counts, links)
    assert result[c][0] == pytest.approx(4 / 3, abs=1e-12)
    assert result[a][0] == pytest.approx(-7 / 9, abs=1e-12)
    assert result[e] == result[a]
    # two-sided: P(|Z| ≥ 4/3) = erfc(4/3 / √2) = 0.182422
    assert result[c][1] == pytest.approx(0.182422, abs=1e-6)
    # listing the cell itself (as disk() does), or a cell outside the area, changes nothing
    links_with_self = {cell: [cell, *ns, 12345] for cell, ns in links.items()}
    assert gi_star(counts, links_with_self) == result


def test_gi_star_without_variation_finds_nothing() -> None:
    """With no reports at all, or the same count everywhere, is every z 0 and p 1 (no error)?"""
    links = neighbourhoods(WARD_CELLS)
    for value in (0.0, 6.0):
        result = gi_star(dict.fromkeys(WARD_CELLS, value), links)
        assert set(result.values()) == {(0.0, 1.0)}
    assert set(gi_star({CENTRE: 3.0, WARD_CELLS[0]: 0.0}, links | {CENTRE: []}).values()) == {(0.0, 1.0)}
    assert gi_star({}, {}) == {}


def test_gi_star_refuses_bad_counts_and_missing_neighbours() -> None:
    """Are negative or non-finite counts, and cells without a neighbour list, refused with a reason?"""
    links = neighbourhoods(WARD_CELLS[:5])
    with pytest.raises(ValueError, match="not negative"):
        gi_star(dict.fromkeys(WARD_CELLS[:5], -1.0), links)
    with pytest.raises(ValueError, match="finite"):
        gi_star({**dict.fromkeys(WARD_CELLS[:5], 1.0), WARD_CELLS[0]: math.nan}, links)
    with pytest.raises(ValueError, match="no neighbours listed"):
        gi_star(dict.fromkeys(WARD_CELLS[:6], 1.0), links)


def test_benjamini_hochberg_by_hand() -> None:
    """Does BH step up: reject every p-value up to the largest rank k with p(k) ≤ k·q/m?"""
    # m = 4, q = 0.05: thresholds k·q/m are 0.0125, 0.025, 0.0375, 0.05.
    # Sorted p: 0.011 ≤ 0.0125 yes; 0.030 ≤ 0.025 no; 0.036 ≤ 0.0375 yes; 0.9 ≤ 0.05 no.
    # The largest k that passes is 3, so the first three are rejected, 0.030 included even though
    # it missed its own threshold (a step-down procedure, or Bonferroni at 0.0125, would stop at 0.011).
    assert benjamini_hochberg([0.9, 0.030, 0.011, 0.036], 0.05) == [False, True, True, True]
    # m = 6, q = 0.05: thresholds 0.00833, 0.01667, 0.025, 0.0333, 0.04167, 0.05.
    # Sorted p: 0.005 yes; 0.010 yes; 0.030 no; 0.040 no; 0.150 no; 0.200 no: k = 2.
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.005, 0.20, 0.15], 0.05) == [True, False, False, True, False, False]
    # at q = 0.10 the thresholds double (0.0167, 0.0333, 0.05, 0.0667, 0.0833, 0.1): 0.04 ≤ 0.0667 at k = 4
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.005, 0.20, 0.15], 0.10) == [True, True, True, True, False, False]
    assert benjamini_hochberg([], 0.05) == []
    assert benjamini_hochberg([0.2, 0.5], 0.05) == [False, False]


@pytest.mark.parametrize(("pvalues", "q"), [([0.1], 0.0), ([0.1], 1.0), ([1.2], 0.05), ([math.nan], 0.05)])
def test_benjamini_hochberg_refuses_bad_input(pvalues: list[float], q: float) -> None:
    """Are a q outside (0, 1) and a p-value outside [0, 1] refused?"""
    with pytest.raises(ValueError, match="between 0 and 1"):
        benjamini_hochberg(pvalues, q)


def test_a_planted_hotspot_is_found() -> None:
    """In random city data with 8 extra reports in each of 7 touching cells, is the cluster found, and only it?"""
    cluster = set(disk(CENTRE, 1))
    near = set(disk(CENTRE, 2))
    for seed in range(10):
        counts = poisson_area(CITY_CELLS, 2.0, seed)
        for cell in cluster:
            counts[cell] += 8
        result = hotspots(counts)
        middle = result[CENTRE]
        assert (middle.hot, middle.confidence, middle.significant, middle.tested) == (True, 99, True, True)
        flagged = {cell for cell, r in result.items() if r.hot}
        # the cluster's cells may pull their touching cells in; nothing beyond that flags
        assert flagged <= near, seed
        assert len(flagged & cluster) >= 4, seed


def test_a_planted_cold_spot_is_found() -> None:
    """Where the city has about 8 reports a cell but 19 cells around one have none, is that cell cold?"""
    counts = poisson_area(CITY_CELLS, 8.0, 3)
    for cell in disk(CENTRE, 2):
        counts[cell] = 0.0
    result = hotspots(counts)
    assert (result[CENTRE].hot, result[CENTRE].significant) == (False, True)
    assert result[CENTRE].z < -3
    assert not any(r.hot for r in result.values())


def test_sparse_cells_cannot_flag() -> None:
    """Is a cell with fewer than MIN_COUNT reports never tested, however empty the area around it?"""
    assert MIN_COUNT == 5
    counts = dict.fromkeys(CITY_CELLS, 0.0)
    counts[CENTRE] = MIN_COUNT - 1
    lone = hotspots(counts)[CENTRE]
    assert lone.z > 4  # Gi* alone would call it a hotspot ...
    assert (lone.tested, lone.hot, lone.confidence, lone.significant) == (False, None, None, False)  # ... but no
    counts[CENTRE] = MIN_COUNT + 1
    lone = hotspots(counts)[CENTRE]
    assert (lone.tested, lone.hot, lone.significant) == (True, True, True)
    # its touching cells have z > 0 too but no reports of their own: tested nowhere
    assert not any(r.tested for c, r in hotspots(counts).items() if c != CENTRE)


def test_cells_where_too_few_are_expected_cannot_be_cold() -> None:
    """With ~0.3 reports a cell, a neighbourhood expects ~2 (< MIN_COUNT), so is no empty cell tested or cold?"""
    counts = poisson_area(CITY_CELLS, 0.3, 1)
    result = hotspots(counts)
    for cell, r in result.items():
        if counts[cell] < MIN_COUNT:
            assert not r.tested and r.hot is None


def test_no_reports_is_no_hotspots_not_an_error() -> None:
    """Does a ward with no reports give every cell untested, neither hot nor cold, z 0 and p 1?"""
    result = hotspots(dict.fromkeys(WARD_CELLS, 0))
    assert set(result.values()) == {
        CellResult(cell=c, count=0, z=0.0, p=1.0, tested=False, hot=None, confidence=None) for c in WARD_CELLS
    }
    assert hotspots({}) == {}


def test_confidence_bins_follow_bh_at_each_level() -> None:
    """Is a cell 99/95/90 exactly when BH at q = 0.01/0.05/0.10 over the tested cells rejects it?"""
    counts = poisson_area(CITY_CELLS, 3.0, 5)
    for cell in disk(CENTRE, 1):
        counts[cell] += 3
    result = hotspots(counts)
    tested = [c for c in CITY_CELLS if result[c].tested]
    assert len(tested) == len(CITY_CELLS)  # 7 cells × 3 expected ≥ MIN_COUNT everywhere
    pvalues = [result[c].p for c in tested]
    at = {q: dict(zip(tested, benjamini_hochberg(pvalues, q), strict=True)) for q in (0.01, 0.05, 0.10)}
    levels = {c: 99 if at[0.01][c] else 95 if at[0.05][c] else 90 if at[0.10][c] else None for c in tested}
    assert {c: result[c].confidence for c in tested} == levels
    assert {c for c in tested if result[c].significant} == {c for c in tested if at[FDR_Q][c]}
    assert any(levels.values())
    for r in result.values():
        assert (r.hot is None) == (r.confidence is None)
        if r.hot is not None:
            assert r.hot == (r.z > 0)


def test_alerting_level_follows_q() -> None:
    """Does q move only ``significant`` (the alert level), never the map's confidence bins?"""
    counts = poisson_area(CITY_CELLS, 3.0, 5)
    for cell in disk(CENTRE, 1):
        counts[cell] += 3
    default = hotspots(counts)
    strict = hotspots(counts, q=0.01)
    assert [(r.hot, r.confidence) for r in default.values()] == [(r.hot, r.confidence) for r in strict.values()]
    assert {c for c, r in strict.items() if r.significant} == {c for c, r in default.items() if r.confidence == 99}
    assert {c for c, r in default.items() if r.significant} == {
        c for c, r in default.items() if r.confidence in (95, 99)
    }


def _binomial_upper(n: int, p: float, alpha: float) -> int:
    """The smallest c with P(Binomial(n, p) > c) ≤ alpha."""
    total = 0.0
    for c in range(n + 1):
        total += math.comb(n, c) * p**c * (1 - p) ** (n - c)
        if 1 - total <= alpha:
            return c
    return n


SEEDS = 200


@pytest.mark.parametrize(
    ("cells", "mean"),
    [(CITY_CELLS, 0.5), (CITY_CELLS, 3.0), (CITY_CELLS, 10.0), (WARD_CELLS, 3.0)],
    ids=["city-0.5", "city-3", "city-10", "ward-3"],
)
def test_uniform_random_data_flags_no_more_than_the_fdr_allows(cells: list[int], mean: float) -> None:
    """With no pattern at all (Poisson counts), is any cell flagged in at most about q of 200 random areas?

    Every flag is then false, so the false discovery rate is P(any flag), which BH keeps at or
    below q. The bound is Binomial(200, q)'s 99.9% point: 21 of 200 at q = 0.05 (expect 10), 34 at
    the 90% bin's q = 0.10. Without the FDR correction (p < 0.05 per cell) every area would flag.
    """
    alerts = shown = 0
    for seed in range(SEEDS):
        result = hotspots(poisson_area(cells, mean, 1000 + seed))
        alerts += any(r.significant for r in result.values())
        shown += any(r.hot is not None for r in result.values())
    assert alerts <= _binomial_upper(SEEDS, FDR_Q, 0.001), alerts
    assert shown <= _binomial_upper(SEEDS, 0.10, 0.001), shown


def test_hotspots_refuses_bad_settings() -> None:
    """Are a negative k, a negative minimum count, a q outside (0, 1) and a non-cell refused?"""
    counts = dict.fromkeys(WARD_CELLS[:5], 1.0)
    with pytest.raises(ValueError, match="k must be"):
        hotspots(counts, k=-1)
    with pytest.raises(ValueError, match="min_count"):
        hotspots(counts, min_count=-1)
    with pytest.raises(ValueError, match="q must be"):
        hotspots(counts, q=1.5)
    with pytest.raises(ValueError, match="not a valid H3 cell"):
        hotspots({5: 1.0, **counts})
