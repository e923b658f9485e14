"""Energy inside a time window from sampled series: counter difference (interpolated at the window
edges) when every device has the counter, else integrated power; both for the cross-check."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from llem_schemas.measurement import MetricSample, QualityFlag, QualityFlagCode

Source = Literal["counter", "integrated_power"]


@dataclass
class WindowEnergy:
    total_j: float | None = None
    source: Source | None = None
    integrated_j: float | None = None  # integrated power, for the cross-check
    counter_j: float | None = None
    per_gpu_j: dict[int, float | None] = field(default_factory=dict)
    per_gpu_source: dict[int, Source | None] = field(default_factory=dict)


def _interp(points: list[tuple[float, float]], t: float) -> float | None:
    """Value at time t by linear interpolation (clamped to the series' ends)."""
    if not points:
        return None
    if t <= points[0][0]:
        return points[0][1]
    for (t0, v0), (t1, v1) in itertools.pairwise(points):
        if t <= t1:
            return v0 if t1 == t0 else v0 + (v1 - v0) * (t - t0) / (t1 - t0)
    return points[-1][1]


def _series(
    samples: Sequence[MetricSample], value: Callable[[MetricSample], float | None]
) -> list[tuple[float, float]]:
    out = []
    for s in samples:
        v = value(s)
        if v is not None:
            out.append((s.sampled_at.timestamp(), v))
    return out


def integrate(points: list[tuple[float, float]], t0: float, t1: float) -> float | None:
    """Trapezoid integral of a power series over [t0, t1], the edges interpolated."""
    if len(points) < 2 or t1 <= t0:
        return None
    inner = [(t, v) for t, v in points if t0 < t < t1]
    edge0, edge1 = _interp(points, t0), _interp(points, t1)
    assert edge0 is not None
    assert edge1 is not None
    pts = [(t0, edge0), *inner, (t1, edge1)]
    return sum((b - a) * (va + vb) / 2 for (a, va), (b, vb) in itertools.pairwise(pts))


def counter_delta(points: list[tuple[float, float]], t0: float, t1: float) -> float | None:
    if len(points) < 2:
        return None
    v0, v1 = _interp(points, t0), _interp(points, t1)
    return None if v0 is None or v1 is None else max(0.0, v1 - v0)


def energy_in_window(samples: Sequence[MetricSample], start: datetime, end: datetime) -> WindowEnergy:
    """GPU energy (NVML) or host energy (RAPL package + DRAM) over [start, end]."""
    t0, t1 = start.timestamp(), end.timestamp()
    by_gpu: dict[int, list[MetricSample]] = defaultdict(list)
    host: list[MetricSample] = []
    for s in samples:
        (by_gpu[s.gpu_index] if s.gpu_index is not None else host).append(s)
    out = WindowEnergy()
    if by_gpu:
        counters, integrals = [], []
        for gpu, series in sorted(by_gpu.items()):
            c = counter_delta(_series(series, lambda s: s.energy_counter_j), t0, t1)
            i = integrate(_series(series, lambda s: s.power_w), t0, t1)
            counters.append(c)
            integrals.append(i)
            out.per_gpu_j[gpu] = c if c is not None else i
            out.per_gpu_source[gpu] = (
                "counter" if c is not None else ("integrated_power" if i is not None else None)
            )
        if all(c is not None for c in counters):
            out.counter_j = sum(c for c in counters if c is not None)
        if all(i is not None for i in integrals):
            out.integrated_j = sum(i for i in integrals if i is not None)
        out.total_j, out.source = (
            (out.counter_j, "counter")
            if out.counter_j is not None
            else (out.integrated_j, "integrated_power")
            if out.integrated_j is not None
            else (None, None)
        )
        return out
    pkg = counter_delta(_series(host, lambda s: s.cpu_package_energy_counter_j), t0, t1)
    if pkg is not None:
        dram = counter_delta(_series(host, lambda s: s.dram_energy_counter_j), t0, t1)
        out.counter_j = out.total_j = pkg + (dram or 0.0)
        out.source = "counter"
    return out


MISMATCH_PCT = 5.0


def mismatch_flag(window: WindowEnergy) -> QualityFlag | None:
    """Counter and integrated power disagreeing by more than 5% (of the counter)."""
    if window.counter_j is None or window.integrated_j is None or window.counter_j <= 0:
        return None
    diff_pct = abs(window.integrated_j - window.counter_j) / window.counter_j * 100
    if diff_pct <= MISMATCH_PCT:
        return None
    return QualityFlag(
        code=QualityFlagCode.COUNTER_INTEGRAL_MISMATCH,
        value=diff_pct,
        detail=f"energy counter {window.counter_j:.1f} J vs integrated power {window.integrated_j:.1f} J "
        f"({diff_pct:.1f}% apart)",
    )
