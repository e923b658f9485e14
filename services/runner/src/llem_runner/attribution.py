"""Per-request energy: each sampling interval's energy is split among the requests in flight during
it, in proportion to how long each overlapped the interval (equal split at any instant)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from llem_runner.energy_source import energy_devices, increase, pick_energy, trapezoid_j
from llem_schemas.measurement import MetricSample

Interval = tuple[float, float, float]  # (t0, t1, energy_j), epoch seconds


def _interval_j(a: MetricSample, b: MetricSample) -> float | None:
    """Energy between two consecutive samples of one device, by the shared source order."""
    power_j = (
        trapezoid_j(a.sampled_at.timestamp(), a.power_w, b.sampled_at.timestamp(), b.power_w)
        if a.power_w is not None and b.power_w is not None
        else None
    )
    energy_j, _ = pick_energy(
        counter_j=increase(a.energy_counter_j, b.energy_counter_j),
        integrated_j=power_j,
        package_j=increase(a.cpu_package_energy_counter_j, b.cpu_package_energy_counter_j),
        dram_j=increase(a.dram_energy_counter_j, b.dram_energy_counter_j),
    )
    return energy_j


def _device_intervals(series: list[MetricSample]) -> list[Interval]:
    out = []
    for a, b in itertools.pairwise(series):
        t0, t1 = a.sampled_at.timestamp(), b.sampled_at.timestamp()
        e = _interval_j(a, b) if t1 > t0 else None
        if e is not None:
            out.append((t0, t1, e))
    return out


def energy_intervals(samples: Sequence[MetricSample]) -> list[Interval]:
    """Every device's sampling intervals with their energy (the same devices as the window totals)."""
    by_gpu, host = energy_devices(samples)
    intervals = []
    for series in [*by_gpu.values(), host]:
        intervals += _device_intervals(sorted(series, key=lambda s: s.sampled_at))
    return intervals


def attribute(requests: Sequence[tuple[float, float]], samples: Sequence[MetricSample]) -> list[float] | None:
    """Energy (J) attributed to each request, given (start, end) epoch seconds; None without energy data."""
    intervals = energy_intervals(samples)
    if not intervals or not requests:
        return None
    energy = [0.0] * len(requests)
    order = sorted(range(len(requests)), key=lambda i: requests[i][0])
    for t0, t1, e in intervals:
        overlaps = []
        for i in order:
            start, end = requests[i]
            if start >= t1:
                break
            overlap = min(end, t1) - max(start, t0)
            if overlap > 0:
                overlaps.append((i, overlap))
        total = sum(o for _, o in overlaps)
        for i, o in overlaps:
            energy[i] += e * o / total
    return energy
