"""Hot and cold spots of report counts on H3 cells: Getis-Ord Gi* with the Benjamini-Hochberg
false discovery rate.

Methods
- Gi* (the "star": a cell is in its own neighbourhood): Getis, A. and Ord, J. K. (1992) "The
  analysis of spatial association by use of distance statistics", Geographical Analysis 24(3),
  189-206; in the standardised form of Ord, J. K. and Getis, A. (1995) "Local spatial
  autocorrelation statistics: distributional issues and an application", Geographical Analysis
  27(4), 286-306, which ArcGIS's Hot Spot Analysis also uses. It is tested against
  esda's ``G_Local(star=True, transform="B")`` (tests/geo/test_hotspot_stats.py).
- The false discovery rate: Benjamini, Y. and Hochberg, Y. (1995) "Controlling the false
  discovery rate: a practical and powerful approach to multiple testing", Journal of the Royal
  Statistical Society B 57(1), 289-300.

docs/hotspots-statistics.md explains the method and every choice below in plain English.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from geo.hexes import disk

# Neighbourhood: the cell and the 6 cells touching it (an H3 disk of radius 1, 7 cells). At the
# city resolution (8) that is about 5 km² and 1.5 km across, the scale of a neighbourhood and
# smaller than a typical Coventry ward (5.5 km²); at the ward resolution (9) about 0.7 km², a
# few streets. k = 2 (19 cells, about 14 km² at resolution 8) dilutes a cluster with ordinary
# cells: in simulations it found a compact cluster a quarter as often as k = 1, for a false-alarm
# rate only a little lower (both near FDR_Q; docs/hotspots-statistics.md has the figures).
K_RING = 1
# A cell needs at least this many reports in the period to be called hot, and a cell's
# neighbourhood must expect at least this many (its cells × the mean count per cell) for it to
# be called cold. Below 5 the normal approximation behind the Gi* p-value is poor (the usual
# rule of thumb for count data: Cochran 1954) and a "hotspot" of 2 or 3 reports is noise, however
# empty the cells around it.
MIN_COUNT = 5
# The false discovery rate for alerts: a cell is a hotspot worth an email at 95% confidence.
FDR_Q = 0.05
# Confidence bins shown on the map: significant under Benjamini-Hochberg at q = 0.01, 0.05 and
# 0.10 among the tested cells, as ArcGIS's Hot Spot Analysis labels its Gi_Bin with FDR on.
CONFIDENCE_LEVELS: tuple[tuple[int, float], ...] = ((99, 0.01), (95, 0.05), (90, 0.10))


def _two_sided_p(z: float) -> float:
    # P(|Z| >= |z|) for a standard normal Z: erfc(|z| / √2).
    return math.erfc(abs(z) / math.sqrt(2.0))


def gi_star(counts: Mapping[int, float], neighbours: Mapping[int, Sequence[int]]) -> dict[int, tuple[float, float]]:
    """Return ``{cell: (z, p)}``: the Getis-Ord Gi* z-score of every cell and its two-sided p-value.

    ``counts`` is the study area: every cell in it, zeros included (a cell that is absent is
    outside the area and is neither counted nor a neighbour). ``neighbours[cell]`` lists the
    cells in its neighbourhood; the cell itself always counts (the star) whether listed or not,
    cells outside the study area are ignored, and weights are binary (1 in, 0 out).

    With x the counts, n cells, mean x̄ and S² = Σx²/n − x̄², and W_i the number of cells in
    cell i's neighbourhood (itself included), the standardised Gi* (Ord and Getis 1995) is

        z_i = (Σ_j∈N(i) x_j − x̄ W_i) / (S √((n W_i − W_i²) / (n − 1)))

    which is approximately standard normal when there is no spatial pattern; p = P(|Z| ≥ |z_i|)
    = erfc(|z_i| / √2). Positive z: more reports around the cell than the area's average.

    Nothing can be tested, so z is 0 and p is 1, when the area has fewer than 3 cells, when
    every count is equal (zero variance: a ward with no reports is normal, not an error), and
    for a cell whose neighbourhood is the whole area. Raises ValueError if a count is negative
    or not finite, or a cell in ``counts`` has no entry in ``neighbours``.
    """
    cells = list(counts)
    n = len(cells)
    x = np.fromiter((float(counts[c]) for c in cells), dtype=float, count=n)
    if not np.all(np.isfinite(x)) or np.any(x < 0):
        raise ValueError("counts must be finite and not negative")
    missing = [c for c in cells if c not in neighbours]
    if missing:
        raise ValueError(f"{len(missing)} cell(s) of the study area have no neighbours listed, e.g. {missing[0]}")
    if n < 3 or float(np.ptp(x)) == 0.0:
        return dict.fromkeys(cells, (0.0, 1.0))

    index = {c: i for i, c in enumerate(cells)}
    rows: list[int] = []
    cols: list[int] = []
    for i, cell in enumerate(cells):
        members = {i}
        members.update(index[j] for j in neighbours[cell] if j in index)
        rows.extend([i] * len(members))
        cols.extend(members)
    row_index = np.asarray(rows, dtype=np.intp)
    local_sum = np.bincount(row_index, weights=x[np.asarray(cols, dtype=np.intp)], minlength=n)
    size = np.bincount(row_index, minlength=n).astype(float)

    mean = float(x.mean())
    s = math.sqrt(float(x.var()))  # population variance (divide by n), as in the formula
    spread = s * np.sqrt((n * size - size**2) / (n - 1))
    result: dict[int, tuple[float, float]] = {}
    for i, cell in enumerate(cells):
        if spread[i] <= 0.0:  # the neighbourhood is the whole area
            result[cell] = (0.0, 1.0)
            continue
        z = float((local_sum[i] - mean * size[i]) / spread[i])
        result[cell] = (z, _two_sided_p(z))
    return result


def benjamini_hochberg(pvalues: Sequence[float], q: float) -> list[bool]:
    """Return, for each p-value in order, whether it is a discovery at false discovery rate ``q``.

    The Benjamini-Hochberg (1995) step-up procedure: sort the m p-values, p(1) ≤ ... ≤ p(m),
    find the largest k with p(k) ≤ k q / m, and reject the hypotheses of p(1) ... p(k). Among
    the discoveries, the expected share of false ones is at most q (for independent or
    positively dependent tests), and when nothing is real the chance of any discovery at all
    is at most q. An empty list gives an empty list.

    Raises ValueError if ``q`` is not strictly between 0 and 1 or a p-value is not in [0, 1].
    """
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must be between 0 and 1, not {q!r}")
    m = len(pvalues)
    if m == 0:
        return []
    p = np.asarray(pvalues, dtype=float)
    if not np.all((p >= 0.0) & (p <= 1.0)):
        raise ValueError("p-values must be between 0 and 1")
    order = np.argsort(p, kind="stable")
    below = p[order] <= q * np.arange(1, m + 1) / m
    if not below.any():
        return [False] * m
    k = int(np.nonzero(below)[0][-1])  # the largest rank (0-based) under its threshold
    rejected = np.zeros(m, dtype=bool)
    rejected[order[: k + 1]] = True
    return [bool(r) for r in rejected]


@dataclass(frozen=True)
class CellResult:
    """One cell of a hotspot analysis (``hotspots``).

    - ``count``: its reports; ``z`` and ``p``: its Gi* z-score and two-sided p-value.
    - ``tested``: whether it took part in the false discovery rate correction. A cell is tested
      if it could be called hot (``count`` ≥ the minimum count) or cold (its neighbourhood
      expects at least the minimum count: cells in it × the area's mean). Other cells are too
      sparse to say anything about and can never be hot or cold.
    - ``hot``: True for a hot spot, False for a cold spot, None for neither. It is set from 90%
      confidence up, for the map's legend.
    - ``confidence``: 99, 95 or 90 when the cell is significant under Benjamini-Hochberg at
      q = 0.01, 0.05 or 0.10 among all tested cells (the highest that applies); None otherwise.
    - ``significant``: whether it is hot or cold at the false discovery rate ``q`` the analysis
      was run with (FDR_Q = 0.05 by default). **Only these count as hotspots for alerts**: with
      the default q that is ``hot is True and confidence >= 95``; a 90% cell is shown on the
      map as weaker evidence but never alerted.
    """

    cell: int
    count: float
    z: float
    p: float
    tested: bool
    hot: bool | None
    confidence: int | None
    significant: bool = False


def hotspots(
    counts: Mapping[int, float], *, k: int = K_RING, min_count: float = MIN_COUNT, q: float = FDR_Q
) -> dict[int, CellResult]:
    """Return ``{cell: CellResult}`` for every cell of the study area: Gi* hot and cold spots.

    ``counts`` is the study area: all its cells at one resolution with their report counts,
    zeros included (the zeros matter: they are what a hotspot stands out from). Neighbourhoods
    are H3 disks of radius ``k`` (``geo.hexes.disk``) restricted to the study area, so a cell
    on the edge has fewer neighbours rather than imaginary empty ones.

    Steps: Gi* for every cell (``gi_star``); choose the tested cells (see ``CellResult``:
    count ≥ ``min_count`` for a possible hot spot; expected count of the neighbourhood ≥
    ``min_count`` for a possible cold spot); Benjamini-Hochberg across all tested cells
    together, hot and cold candidates alike, at 0.01, 0.05, 0.10 (the confidence bins) and at
    ``q`` (``significant``). A hot spot needs z > 0 and count ≥ ``min_count``; a cold spot
    needs z < 0 (its neighbourhood then expects ≥ ``min_count``, or it would not be tested).

    Raises ValueError as ``gi_star`` does (a negative or non-finite count), for a cell that is
    not a valid H3 cell, if ``k`` is negative, ``min_count`` is negative or ``q`` is not
    strictly between 0 and 1. An empty area gives an empty result.
    """
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must be between 0 and 1, not {q!r}")
    if min_count < 0:
        raise ValueError(f"min_count must not be negative, not {min_count!r}")
    if not counts:
        return {}
    area = set(counts)
    neighbours = {cell: [c for c in disk(cell, k) if c in area] for cell in counts}
    stats = gi_star(counts, neighbours)
    mean = sum(float(v) for v in counts.values()) / len(counts)

    def can_be_hot(cell: int) -> bool:
        return stats[cell][0] > 0 and float(counts[cell]) >= min_count

    def can_be_cold(cell: int) -> bool:
        return stats[cell][0] < 0 and len(neighbours[cell]) * mean >= min_count

    tested = [c for c in counts if float(counts[c]) >= min_count or len(neighbours[c]) * mean >= min_count]
    pvalues = [stats[c][1] for c in tested]
    levels = {
        level: dict(zip(tested, benjamini_hochberg(pvalues, q_level), strict=True))
        for level, q_level in CONFIDENCE_LEVELS
    }
    at_q = dict(zip(tested, benjamini_hochberg(pvalues, q), strict=True))

    results: dict[int, CellResult] = {}
    for cell, count in counts.items():
        z, p = stats[cell]
        direction: bool | None = True if can_be_hot(cell) else False if can_be_cold(cell) else None
        confidence = None
        if direction is not None:
            confidence = next((level for level, _ in CONFIDENCE_LEVELS if levels[level].get(cell, False)), None)
        results[cell] = CellResult(
            cell=cell,
            count=count,
            z=z,
            p=p,
            tested=cell in at_q,
            hot=direction if confidence is not None else None,
            confidence=confidence,
            significant=direction is not None and at_q.get(cell, False),
        )
    return results
