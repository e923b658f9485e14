"""Statistics shared by the runner (over repetitions and latencies), the API (over runs of a
configuration) and the benchmarks. Pure Python: no numpy or scipy on a runner."""

from __future__ import annotations

import math
from collections.abc import Sequence

from llem_schemas.measurement import IntervalStats

# Two-sided 95% critical values of Student's t for 1..30 degrees of freedom.
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042)  # fmt: skip


def percentile(values: Sequence[float], pct: float) -> float:
    """Linear-interpolated percentile, `pct` in 0..100 (numpy's default method)."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def t95(dof: int) -> float:
    return _T95[dof - 1] if dof <= len(_T95) else 1.96


def interval_stats(values: Sequence[float | None]) -> IntervalStats | None:
    """Mean, sample std and 95% CI; None when any value is missing."""
    if not values or any(v is None for v in values):
        return None
    xs = [float(v) for v in values if v is not None]
    n = len(xs)
    mean = sum(xs) / n
    if n < 2:
        return IntervalStats(n=n, mean=mean, std=None, ci95_low=None, ci95_high=None)
    std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
    half = t95(n - 1) * std / math.sqrt(n)
    return IntervalStats(n=n, mean=mean, std=std, ci95_low=mean - half, ci95_high=mean + half)
