"""Is a problem getting worse? A Poisson Z for a recent rise, and the Mann-Kendall trend test.

Methods
- The square-root Poisson Z: if X is a Poisson count with mean μ, 2√X is approximately normal
  with mean 2√μ and variance 1 (the variance-stabilising square root: Bartlett, M. S. (1936)
  "The square root transformation in analysis of variance", Supplement to the Journal of the
  Royal Statistical Society 3(1), 68-78; Anscombe, F. J. (1948) "The transformation of Poisson,
  binomial and negative-binomial data", Biometrika 35(3/4), 246-254). So
  Z = 2(√current − √expected) measures how far the recent count is from what the baseline
  predicts, in standard deviations, and stays sensible for small counts.
- Mann-Kendall: Mann, H. B. (1945) "Nonparametric tests against trend", Econometrica 13(3),
  245-259; Kendall, M. G. (1975) Rank Correlation Methods, 4th ed., Griffin (the variance with
  ties); as set out in Gilbert, R. O. (1987) Statistical Methods for Environmental Pollution
  Monitoring, Van Nostrand Reinhold, section 16.4 (including the continuity correction).

docs/hotspots-statistics.md explains both in plain English.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

# |Z| at least 3 (about 3 standard deviations: a chance of roughly 1 in 370 for one ward and
# category under the square-root normal approximation) flags a change. The bar is high because
# every ward × category is checked every night: 18 wards × ~15 categories is ~270 tests, so
# 1.96 would raise about 13 false alarms a night by chance alone.
EMERGING_Z = 3.0
# The Mann-Kendall test runs over the last 12 periods (weeks or months): long enough to show a
# sustained rise (the test cannot reach p < 0.05 with fewer than 5 values, and needs ~8-10 to
# have reasonable power), short enough that last year's pattern does not mask a new one.
TREND_PERIODS = 12
TREND_ALPHA = 0.05


def poisson_z(
    current: int, baseline: int, *, current_length: int = 4, baseline_length: int = 12
) -> tuple[float, float]:
    """Return ``(z, expected)``: how unusual ``current`` reports are against the ``baseline``.

    ``current`` reports were made in the last ``current_length`` periods (by default 4 weeks)
    and ``baseline`` in the ``baseline_length`` periods before (by default 12 weeks). The
    baseline is scaled to the same length, expected = baseline × current_length /
    baseline_length, and Z = 2(√current − √expected) (square-root transform of a Poisson count;
    Bartlett 1936, Anscombe 1948). |Z| ≥ EMERGING_Z flags a change: positive for a rise.

    Example: 41 reports in the last 4 weeks against 54 in the 12 weeks before: expected 18,
    Z = 2(√41 − √18) = 4.32.

    A rise from nothing can flag on very few reports (3 against an expected 0 gives Z = 3.46),
    so callers that alert should also require a minimum count (``geo.hotspot_stats.MIN_COUNT``).
    Raises ValueError if a count is negative or a length is not positive.
    """
    if current < 0 or baseline < 0:
        raise ValueError("report counts cannot be negative")
    if current_length <= 0 or baseline_length <= 0:
        raise ValueError("period lengths must be positive")
    expected = baseline * current_length / baseline_length
    return 2.0 * (math.sqrt(current) - math.sqrt(expected)), expected


@dataclass(frozen=True)
class MannKendall:
    """A Mann-Kendall trend test: ``s`` (the statistic), ``var_s`` (its variance under no trend,
    corrected for ties), ``z`` (continuity-corrected), ``p`` (two-sided) and ``trend``: "rising"
    or "falling" when p < alpha, else ""."""

    s: int
    var_s: float
    z: float
    p: float
    trend: str


def mann_kendall(series: Sequence[float], alpha: float = TREND_ALPHA) -> MannKendall:
    """Test ``series`` (oldest first, e.g. the last TREND_PERIODS weekly counts) for a monotonic trend.

    Mann (1945) and Kendall (1975), in Gilbert's (1987) form:

    - S = Σ_{i<j} sign(x_j − x_i): +1 for every later value above an earlier one, −1 below.
    - Var(S) = [n(n − 1)(2n + 5) − Σ_t t(t − 1)(2t + 5)] / 18, summing over groups of t
      tied values.
    - Z = (S − 1)/√Var(S) if S > 0, 0 if S = 0, (S + 1)/√Var(S) if S < 0 (the continuity
      correction), and p = P(|N(0, 1)| ≥ |Z|) = erfc(|Z|/√2).

    It needs no assumption about the shape of the trend or the distribution of the counts. With
    fewer than 2 values, or all values equal, there is nothing to test: S = 0, Var(S) = 0, Z = 0,
    p = 1, no trend. Raises ValueError if a value is not finite or ``alpha`` is not strictly
    between 0 and 1.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be between 0 and 1, not {alpha!r}")
    values = [float(v) for v in series]
    if not all(math.isfinite(v) for v in values):
        raise ValueError("the series must hold finite numbers")
    n = len(values)
    s = 0
    for i in range(n - 1):
        for j in range(i + 1, n):
            s += (values[j] > values[i]) - (values[j] < values[i])
    ties = sum(t * (t - 1) * (2 * t + 5) for t in Counter(values).values())
    var_s = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    if var_s <= 0.0:
        return MannKendall(s=s, var_s=0.0, z=0.0, p=1.0, trend="")
    if s > 0:
        z = (s - 1) / math.sqrt(var_s)
    elif s < 0:
        z = (s + 1) / math.sqrt(var_s)
    else:
        z = 0.0
    p = math.erfc(abs(z) / math.sqrt(2.0))
    trend = ("rising" if s > 0 else "falling") if p < alpha else ""
    return MannKendall(s=s, var_s=var_s, z=z, p=p, trend=trend)


def periods_above(series: Sequence[float], expected: float) -> int:
    """Return how many of the latest periods in a row (oldest first) are above ``expected``.

    ``expected`` is the baseline's count per period (e.g. the 12-week baseline / 12 for weekly
    counts). This is the "rising for 8 weeks" of an emerging problem's summary: the run ends at
    the most recent period that is at or below expected. 0 if the latest period is not above.
    """
    run = 0
    for value in reversed(series):
        if value > expected:
            run += 1
        else:
            break
    return run
