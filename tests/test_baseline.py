"""Idle baseline: measured with the meter, cached per host and device set, reused while fresh.
Uses the tiny fake NVML (tests/fakes): the subject is the caching and arithmetic, not the hardware."""

from __future__ import annotations

from pathlib import Path

from llem_runner.baseline import BaselineCache
from llem_runner.meters.none import NoneMeter
from llem_runner.meters.nvml import NvmlMeter
from tests.fakes.fake_nvml import FakeGpu, FakeNvml


def test_measured_once_then_reused_and_keyed_by_the_devices(tmp_path: Path) -> None:
    cache = BaselineCache(tmp_path / "idle.json")
    meter = NvmlMeter(FakeNvml([FakeGpu(power_mw=60_000, power_avg_mw=60_000)]))
    first = cache.get_or_measure(meter, duration_s=0.3, period_s=0.05, max_age_s=600)
    assert first is not None and first.power_w > 0
    again = cache.get_or_measure(meter, duration_s=0.3, period_s=0.05, max_age_s=600)
    assert again == first, "a fresh cached baseline is reused"
    other = NvmlMeter(FakeNvml([FakeGpu(uuid="GPU-11111111-fake-0000-0000-000000000000")]))
    assert cache.get(other, max_age_s=600) is None, "another GPU never reuses this baseline"
    assert cache.get(meter, max_age_s=-1) is None, "a stale baseline is not reused"


def test_no_baseline_without_energy_or_when_disabled(tmp_path: Path) -> None:
    cache = BaselineCache(tmp_path / "idle.json")
    assert cache.get_or_measure(NoneMeter(), 1.0, 0.1, 600) is None
    meter = NvmlMeter(FakeNvml([FakeGpu()]))
    assert cache.get_or_measure(meter, 0.0, 0.1, 600) is None
