"""Small statistics helpers (no numpy or scipy on the runner)."""

from __future__ import annotations

from collections.abc import Sequence

from llem_schemas.measurement import LatencyStats
from llem_schemas.stats import interval_stats, percentile, t95

__all__ = ["interval_stats", "latency_stats", "percentile", "t95"]


def latency_stats(values: Sequence[float]) -> LatencyStats:
    if not values:
        return LatencyStats()
    return LatencyStats(
        mean_ms=sum(values) / len(values),
        p50_ms=percentile(values, 50),
        p90_ms=percentile(values, 90),
        p95_ms=percentile(values, 95),
        p99_ms=percentile(values, 99),
    )
