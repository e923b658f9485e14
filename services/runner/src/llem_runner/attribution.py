"""Per-request energy: each sampling interval's energy is split among the requests in flight during
it, in proportion to how long each overlapped the interval (equal split at any instant)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence

from llem_schemas.measurement import MetricSample

Interval = tuple[float, float, float]  # (t0, t1, energy_j), epoch seconds


def _device_intervals(series: list[MetricSample]) -> list[Interval]:
    out = []
    for a, b in itertools.pairwise(series):
        t0, t1 = a.sampled_at.timestamp(), b.sampled_at.timestamp()
        if t1 <= t0:
            continue
        if a.energy_counter_j is not None and b.energy_counter_j is not None:
            e = max(0.0, b.energy_counter_j - a.energy_counter_j)
        elif a.power_w is not None and b.power_w is not None:
            e = (t1 - t0) * (a.power_w + b.power_w) / 2
        elif a.cpu_package_energy_counter_j is not None and b.cpu_package_energy_counter_j is not None:
            e = b.cpu_package_energy_counter_j - a.cpu_package_energy_counter_j
            if a.dram_energy_counter_j is not None and b.dram_energy_counter_j is not None:
                e += b.dram_energy_counter_j - a.dram_energy_counter_j
        else:
            continue
        out.append((t0, t1, e))
    return out


def energy_intervals(samples: Sequence[MetricSample]) -> list[Interval]:
    by_device: dict[int | None, list[MetricSample]] = defaultdict(list)
    for s in samples:
        by_device[s.gpu_index].append(s)
    intervals = []
    for series in by_device.values():
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
