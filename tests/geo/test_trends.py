"""The Poisson Z for a recent rise, the Mann-Kendall trend test and runs above expected (geo.trends)."""

from __future__ import annotations

import math

import pytest

from geo.trends import EMERGING_Z, MannKendall, mann_kendall, periods_above, poisson_z


def test_poisson_z_by_hand() -> None:
    """Does poisson_z scale the baseline to the recent period and give 2(√current − √expected)?"""
    # 41 reports in the last 4 weeks, 54 in the 12 weeks before: expected = 54 × 4/12 = 18.
    # Z = 2(√41 − √18) = 2(6.403124 − 4.242641) = 2 × 2.160483 = 4.320967: a rise, flagged (≥ 3).
    z, expected = poisson_z(41, 54)
    assert expected == 18.0
    assert z == pytest.approx(4.320967, abs=1e-6)
    assert abs(z) >= EMERGING_Z == 3.0
    # A fall: 2 against 60 over 12 weeks: expected 20, Z = 2(1.414214 − 4.472136) = −6.115845.
    assert poisson_z(2, 60) == (pytest.approx(-6.115845, abs=1e-6), 20.0)
    # Other lengths: 10 in 4 weeks against 130 in the year before (52 weeks): expected 10, Z = 0.
    assert poisson_z(10, 130, current_length=4, baseline_length=52) == (0.0, 10.0)
    # 27 against an expected 18 (54 over 12): Z = 2(5.196152 − 4.242641) = 1.907023, not flagged.
    z, _ = poisson_z(27, 54)
    assert z == pytest.approx(1.907023, abs=1e-6) and abs(z) < EMERGING_Z
    # From nothing: 3 against 0 gives 2√3 = 3.464102 (why callers also want a minimum count).
    assert poisson_z(3, 0) == (pytest.approx(2 * math.sqrt(3)), 0.0)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((-1, 5), {}, "cannot be negative"),
        ((1, -5), {}, "cannot be negative"),
        ((1, 5), {"current_length": 0}, "must be positive"),
        ((1, 5), {"baseline_length": -12}, "must be positive"),
    ],
)
def test_poisson_z_refuses_bad_input(args: tuple[int, int], kwargs: dict[str, int], message: str) -> None:
    """Are negative counts and non-positive lengths refused with a reason?"""
    with pytest.raises(ValueError, match=message):
        poisson_z(*args, **kwargs)


# Twelve weekly counts, oldest first, with three pairs of ties (3, 5, 7).
RISING = [3, 4, 3, 5, 6, 5, 7, 8, 7, 9, 10, 12]


def test_mann_kendall_by_hand_with_ties() -> None:
    """Does mann_kendall give the hand-worked S, tie-corrected Var(S), continuity-corrected Z and p?"""
    # For each value, (later values above it, later values below it):
    #   3: (10, 0)  4: (9, 1)  3: (9, 0)  5: (7, 0)  6: (6, 1)  5: (6, 0)
    #   7: (4, 0)   8: (3, 1)  7: (3, 0)  9: (2, 0) 10: (1, 0) 12: (0, 0)
    # S = 60 − 3 = 57.
    # n = 12: n(n − 1)(2n + 5) = 12 × 11 × 29 = 3828. Ties: three groups of t = 2, each
    # t(t − 1)(2t + 5) = 2 × 1 × 9 = 18, so 54. Var(S) = (3828 − 54)/18 = 209.666667.
    # Z = (S − 1)/√Var(S) = 56/14.479871 = 3.867438; p = erfc(3.867438/√2) = 0.000110: rising.
    result = mann_kendall(RISING)
    assert result.s == 57
    assert result.var_s == pytest.approx(209.666667, abs=1e-6)
    assert result.z == pytest.approx(3.867438, abs=1e-6)
    assert result.p == pytest.approx(0.000110, abs=1e-6)
    assert result.trend == "rising"
    # Reversed, every comparison flips: S = −57, same variance, Z = (S + 1)/√Var(S) = −3.867438.
    falling = mann_kendall(list(reversed(RISING)))
    assert (falling.s, falling.var_s, falling.trend) == (-57, result.var_s, "falling")
    assert falling.z == pytest.approx(-3.867438, abs=1e-6) and falling.p == pytest.approx(result.p)


def test_mann_kendall_small_cases_by_hand() -> None:
    """Do the textbook small cases come out as worked by hand, with alpha deciding the trend?"""
    # 1, 2, 3, 4, 5: every pair rises, S = 10; Var = 5 × 4 × 15/18 = 16.666667;
    # Z = 9/4.082483 = 2.204541; p = 0.027486: rising at 0.05, not at 0.01.
    five = mann_kendall([1, 2, 3, 4, 5])
    assert (five.s, five.trend) == (10, "rising")
    assert (five.var_s, five.z, five.p) == (
        pytest.approx(16.666667, abs=1e-6),
        pytest.approx(2.204541, abs=1e-6),
        pytest.approx(0.027486, abs=1e-6),
    )
    assert mann_kendall([1, 2, 3, 4, 5], alpha=0.01).trend == ""
    # 1, 2, 2, 3: pairs + + + 0 + +, S = 5; Var = (4 × 3 × 13 − 2 × 1 × 9)/18 = (156 − 18)/18 = 7.666667;
    # Z = 4/2.768875 = 1.444630; p = 0.148562: no trend.
    small = mann_kendall([1, 2, 2, 3])
    assert (small.s, small.trend) == (5, "")
    assert (small.var_s, small.z, small.p) == (
        pytest.approx(7.666667, abs=1e-6),
        pytest.approx(1.444630, abs=1e-6),
        pytest.approx(0.148562, abs=1e-6),
    )


def test_mann_kendall_sees_no_trend_in_a_repeating_pattern() -> None:
    """Is a level series that only wobbles (4, 6, 5 repeated) given no trend?"""
    # Per value, later above minus later below: 8, −7, 0, 6, −5, 0, 4, −3, 0, 2, −1, 0: S = 4.
    # Ties: three groups of t = 4, each 4 × 3 × 13 = 156, so 468; Var = (3828 − 468)/18 = 186.666667.
    # Z = 3/13.662601 = 0.219578; p = 0.826200.
    result = mann_kendall([4, 6, 5] * 4)
    assert (result.s, result.trend) == (4, "")
    assert result.var_s == pytest.approx(186.666667, abs=1e-6)
    assert result.z == pytest.approx(0.219578, abs=1e-6)
    assert result.p == pytest.approx(0.826200, abs=1e-6)


@pytest.mark.parametrize("series", [[], [5], [3] * 12, [0.0, 0.0]])
def test_mann_kendall_with_nothing_to_test(series: list[float]) -> None:
    """With fewer than 2 values or all equal, is the answer S = 0, p = 1, no trend (no error)?"""
    assert mann_kendall(series) == MannKendall(s=0, var_s=0.0, z=0.0, p=1.0, trend="")


def test_mann_kendall_refuses_bad_input() -> None:
    """Are a non-finite value and an alpha outside (0, 1) refused?"""
    with pytest.raises(ValueError, match="finite"):
        mann_kendall([1, 2, math.inf])
    with pytest.raises(ValueError, match="alpha"):
        mann_kendall([1, 2, 3], alpha=0)


@pytest.mark.parametrize(
    ("series", "expected", "run"),
    [
        ([5, 1, 6, 7, 8], 4, 3),  # the 1 ends the run
        ([5, 6, 7, 4], 4.5, 0),  # the latest week is below
        ([5, 6, 7, 4], 4, 0),  # equal is not above
        ([5, 6, 7], 4, 3),  # all above
        ([], 1, 0),
        ([2.5, 2.4], 2.45, 0),
        ([0, 0, 1], 0.0, 1),  # a rise from nothing counts
    ],
)
def test_periods_above(series: list[float], expected: float, run: int) -> None:
    """Does periods_above count only the latest unbroken run strictly above expected?"""
    assert periods_above(series, expected) == run
