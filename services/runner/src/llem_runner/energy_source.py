"""Where energy comes from, defined once for the window totals (`windows`) and the per-request
split (`attribution`): a GPU's own energy counter, else its integrated board power; the host's RAPL
package (+ DRAM) counters only when no GPU was sampled. A counter that went backwards (a driver
reload, a meter restarted) adds nothing: energy is never negative, and a reset must not cancel
the energy measured before it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Literal

from llem_schemas.measurement import MetricSample

__all__ = ["Source", "energy_devices", "increase", "pick_energy", "trapezoid_j"]

Source = Literal["counter", "integrated_power"]


def energy_devices(
    samples: Sequence[MetricSample],
) -> tuple[dict[int, list[MetricSample]], list[MetricSample]]:
    """(samples per GPU, host samples), in the given order; the host's are left out (empty)
    whenever any GPU was sampled, since RAPL comes last in the order."""
    gpus: dict[int, list[MetricSample]] = defaultdict(list)
    host: list[MetricSample] = []
    for s in samples:
        (gpus[s.gpu_index] if s.gpu_index is not None else host).append(s)
    return dict(gpus), [] if gpus else host


def increase(start: float | None, end: float | None) -> float | None:
    """A cumulative counter's increase between two readings (None without both), clamped at 0."""
    return None if start is None or end is None else max(0.0, end - start)


def trapezoid_j(t0: float, power0_w: float, t1: float, power1_w: float) -> float:
    """Energy over [t0, t1] (seconds) of a power moving linearly from power0_w to power1_w."""
    return (t1 - t0) * (power0_w + power1_w) / 2


def pick_energy(
    *,
    counter_j: float | None = None,
    integrated_j: float | None = None,
    package_j: float | None = None,
    dram_j: float | None = None,
) -> tuple[float | None, Source | None]:
    """(joules, source) of one span in the one order: the GPU energy counter's increase, else
    integrated power, else the RAPL package counter's increase (+ DRAM's, when read); (None, None)
    when none was measured. Counter increases come from `increase`, so they are already clamped."""
    if counter_j is not None:
        return counter_j, "counter"
    if integrated_j is not None:
        return integrated_j, "integrated_power"
    if package_j is not None:
        return package_j + (dram_j or 0.0), "counter"
    return None, None
