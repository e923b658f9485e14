"""GPU check: exercise the runner's NVML meter, sampler and energy summary on a real GPU.

Run by scripts/gpu-check.sh. Measures an idle window and a loaded window (bf16 matrix products
through PyTorch when it is installed) and prints what the meter saw, as JSON. Exits 2 without a GPU.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from llem_runner.meters.nvml import NvmlMeter, nvml_is_available
from llem_runner.sampler import Sampler, TokenCounters
from llem_runner.summary import summarize
from llem_schemas import MeasurementProtocol

PERIOD_MS = 100


def _window(meter: NvmlMeter, seconds: float, work: Any = None) -> dict[str, Any]:
    sampler = Sampler(meter, PERIOD_MS / 1000, TokenCounters())
    sampler.start()
    start = datetime.now(UTC)
    deadline = time.monotonic() + seconds
    iterations = 0
    while time.monotonic() < deadline:
        if work is None:
            time.sleep(0.05)
        else:
            work()
            iterations += 1
    sampler.stop()
    end = datetime.now(UTC)
    summary = summarize(
        [], sampler.all_samples, start, end, "nvml", MeasurementProtocol(sampling_period_ms=PERIOD_MS)
    )
    temps = [s.temperature_c for s in sampler.all_samples if s.temperature_c is not None]
    clocks = [s.sm_clock_mhz for s in sampler.all_samples if s.sm_clock_mhz is not None]
    return {
        "duration_s": round(summary.duration_s, 3),
        "samples": summary.measurement.samples,
        "energy_j": summary.energy_j,
        "energy_source": summary.measurement.energy_source,
        "avg_power_w": summary.avg_power_w,
        "peak_power_w": summary.peak_power_w,
        "temperature_c_first_last": [temps[0], temps[-1]] if temps else None,
        "sm_clock_mhz_max": max(clocks) if clocks else None,
        "quality_flags": [f.model_dump(mode="json") for f in summary.quality_flags],
        "work_iterations": iterations,
        "first_sample": sampler.all_samples[0].model_dump(mode="json"),
    }


def _matmul_work() -> Any:
    try:
        import torch
    except ImportError:
        return None
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)

    def work() -> None:
        for _ in range(20):
            a @ b
        torch.cuda.synchronize()

    return work


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
    }
    report["idle"] = _window(meter, 5.0)
    work = _matmul_work()
    report["load"] = _window(meter, 10.0, work) if work else "torch not installed: no load window"
    meter.close()
    text = json.dumps(report, indent=2)
    print(text)
    if out := os.environ.get("OUT"):
        Path(out, "gpu-check.json").write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
