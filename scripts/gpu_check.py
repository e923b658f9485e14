"""GPU check: the runner's NVML meter, sampler and energy accounting on a real GPU, around a known load.

Run by scripts/gpu-check.sh. Prints JSON: devices and driver; an idle window; the same bf16 matrix
load with the sampler off and on (throughput both ways: the meter's overhead on the work); counter
energy vs integrated power energy and their disagreement; the achieved sampling rate; the cost of one
meter read; the runner's power-limit path (half the default limit under the load, then restored).
Exits 2 without a GPU.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from llem_runner.errors import JobRejected
from llem_runner.meters.nvml import NvmlMeter, nvml_is_available
from llem_runner.sampler import Sampler, TokenCounters
from llem_runner.windows import energy_in_window

PERIOD_S = 0.1


def _loop(seconds: float, work: Callable[[], None] | None) -> int:
    deadline = time.monotonic() + seconds
    iterations = 0
    while time.monotonic() < deadline:
        if work is None:
            time.sleep(0.05)
        else:
            work()
            iterations += 1
    return iterations


def _metered(meter: NvmlMeter, seconds: float, work: Callable[[], None] | None) -> dict[str, Any]:
    sampler = Sampler(meter, PERIOD_S, TokenCounters())
    sampler.start()
    start = datetime.now(UTC)
    iterations = _loop(seconds, work)
    sampler.stop()
    end = datetime.now(UTC)
    samples = sampler.all_samples
    window = energy_in_window(samples, start, end)
    duration = (end - start).total_seconds()
    disagreement = (
        abs(window.integrated_j - window.counter_j) / window.counter_j * 100
        if window.counter_j and window.integrated_j is not None
        else None
    )
    temps = [s.temperature_c for s in samples if s.temperature_c is not None]
    return {
        "duration_s": round(duration, 3),
        "iterations_per_s": iterations / duration if work else None,
        "samples": len(samples),
        "achieved_sampling_hz": round(len({s.sampled_at for s in samples}) / duration, 2),
        "counter_energy_j": window.counter_j,
        "integrated_energy_j": window.integrated_j,
        "counter_vs_integrated_pct": disagreement,
        "avg_power_w_from_counter": window.counter_j / duration if window.counter_j else None,
        "peak_power_w": max((s.power_w for s in samples if s.power_w is not None), default=None),
        "temperature_c_first_last": [temps[0], temps[-1]] if temps else None,
        "sm_clock_mhz_max": max(
            (s.sm_clock_mhz for s in samples if s.sm_clock_mhz is not None), default=None
        ),
        "throttle_reasons_seen": sorted(
            {s.throttle_reasons for s in samples if s.throttle_reasons is not None}
        ),
    }


def _read_cost_ms(meter: NvmlMeter, reads: int = 100) -> dict[str, float]:
    costs = []
    for _ in range(reads):
        t0 = time.perf_counter()
        meter.read(datetime.now(UTC))
        costs.append((time.perf_counter() - t0) * 1000)
    return {
        "mean": statistics.mean(costs),
        "p50": statistics.median(costs),
        "max": max(costs),
        "share_of_period_pct": statistics.mean(costs) / (PERIOD_S * 1000) * 100,
    }


def _matmul_work() -> Callable[[], None] | None:
    try:
        import torch
    except ImportError:
        return None
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)

    def work() -> None:
        for _ in range(10):
            a @ b
        torch.cuda.synchronize()

    return work


def _power_limit(meter: NvmlMeter, work: Callable[[], None]) -> dict[str, Any]:
    """The runner's power-limit path (protocol.power_limit_w): half the default limit under the same
    load, then restored. Needs a runner allowed to set limits; a refusal is reported as it is."""
    import pynvml

    handle = pynvml.nvmlDeviceGetHandleByIndex(0)
    low_mw, _high_mw = pynvml.nvmlDeviceGetPowerManagementLimitConstraints(handle)
    before = meter.devices()[0].power_limit_w
    target = max(low_mw / 1000, round((before or 0) * 0.5))
    try:
        restore = meter.set_power_limit(target)
    except JobRejected as exc:
        return {"default_limit_w": before, "target_w": target, "refused": str(exc)}
    try:
        during = meter.devices()[0].power_limit_w
        limited = _metered(meter, 6.0, work)
    finally:
        restore()
    return {
        "default_limit_w": before,
        "target_w": target,
        "enforced_during_w": during,
        "restored_w": meter.devices()[0].power_limit_w,
        "load_at_limit": limited,
    }


def main() -> int:
    if not nvml_is_available():
        print("NVML not available: no GPU check possible on this machine", file=sys.stderr)
        return 2
    meter = NvmlMeter()
    report: dict[str, Any] = {
        "devices": [d.model_dump(mode="json") for d in meter.devices()],
        "driver": meter.driver_info(),
        "has_energy_counter": meter.has_energy_counter,
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "sampling_period_ms": PERIOD_S * 1000,
        "meter_read_cost_ms": _read_cost_ms(meter),
        "idle": _metered(meter, 5.0, None),
    }
    work = _matmul_work()
    if work is None:
        report["load"] = "torch not installed: no load windows"
    else:
        _loop(3.0, work)  # warm the GPU up to a steady clock
        off = _loop(8.0, work) / 8.0
        on = _metered(meter, 8.0, work)
        report["load_unmetered_iterations_per_s"] = off
        report["load_metered"] = on
        report["meter_overhead_on_load_pct"] = (1 - on["iterations_per_s"] / off) * 100
        report["power_limit"] = _power_limit(meter, work)
    meter.close()
    text = json.dumps(report, indent=2)
    print(text)
    if out := os.environ.get("OUT"):
        Path(out, "gpu-check.json").write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
