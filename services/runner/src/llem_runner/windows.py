"""Energy inside a time window from sampled series: counter difference (interpolated at the window
edges) when every device has the counter, else integrated power; both for the cross-check. Which
source counts, and how counters are clamped, is `energy_source`'s, shared with attribution."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from llem_runner.energy_source import Source, energy_devices, increase, pick_energy, trapezoid_j
from llem_schemas.measurement import MetricSample, QualityFlag, QualityFlagCode

__all__ = ["Source", "WindowEnergy", "counter_delta", "energy_in_window", "integrate", "mismatch_flag"]


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
    return sum(trapezoid_j(a, va, b, vb) for (a, va), (b, vb) in itertools.pairwise(pts))


def counter_delta(points: list[tuple[float, float]], t0: float, t1: float) -> float | None:
    if len(points) < 2:
        return None
    return increase(_interp(points, t0), _interp(points, t1))


def _sum_if_all(values: Sequence[float | None]) -> float | None:
    return sum(v for v in values if v is not None) if all(v is not None for v in values) else None


def _gpu_window(by_gpu: dict[int, list[MetricSample]], t0: float, t1: float) -> WindowEnergy:
    """Per GPU its own best source; the total from one source for every GPU (counter, else power)."""
    out = WindowEnergy()
    counters, integrals = [], []
    for gpu, series in sorted(by_gpu.items()):
        c = counter_delta(_series(series, lambda s: s.energy_counter_j), t0, t1)
        i = integrate(_series(series, lambda s: s.power_w), t0, t1)
        counters.append(c)
        integrals.append(i)
        out.per_gpu_j[gpu], out.per_gpu_source[gpu] = pick_energy(counter_j=c, integrated_j=i)
    out.counter_j, out.integrated_j = _sum_if_all(counters), _sum_if_all(integrals)
    out.total_j, out.source = pick_energy(counter_j=out.counter_j, integrated_j=out.integrated_j)
    return out


def _host_window(host: list[MetricSample], t0: float, t1: float) -> WindowEnergy:
    package_j = counter_delta(_series(host, lambda s: s.cpu_package_energy_counter_j), t0, t1)
    dram_j = counter_delta(_series(host, lambda s: s.dram_energy_counter_j), t0, t1)
    total_j, source = pick_energy(package_j=package_j, dram_j=dram_j)
    return WindowEnergy(total_j=total_j, source=source, counter_j=total_j)


def energy_in_window(samples: Sequence[MetricSample], start: datetime, end: datetime) -> WindowEnergy:
    """GPU energy (NVML) or host energy (RAPL package + DRAM) over [start, end]."""
    by_gpu, host = energy_devices(samples)
    if by_gpu:
        return _gpu_window(by_gpu, start.timestamp(), end.timestamp())
    return _host_window(host, start.timestamp(), end.timestamp())


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
