"""NVIDIA GPUs through NVML (`nvidia-ml-py`, module `pynvml`).

Energy comes from the total-energy counter (mJ since driver load, Volta+); power, temperature,
clocks, utilisation and memory are sampled. Every NVML error is translated here, at the boundary:
a value that cannot be read is None, never a guess.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import pynvml

from llem_runner.errors import MeterError
from llem_runner.meters.base import Meter
from llem_schemas.measurement import GpuInfo, MetricSample

log = logging.getLogger(__name__)
T = TypeVar("T")


def nvml_is_available() -> bool:
    """Probe: True when the NVML library loads and sees at least one GPU."""
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        log.info("NVML not available: %s", exc)
        return False
    try:
        return bool(pynvml.nvmlDeviceGetCount() > 0)
    finally:
        pynvml.nvmlShutdown()


def _or_none(read: Callable[..., T], *args: Any) -> T | None:
    """Call an NVML getter; None when the device or driver does not support it."""
    try:
        return read(*args)
    except pynvml.NVMLError:
        return None


def _visible_handles() -> list[Any]:
    """NVML handles in the order CUDA sees them, honouring CUDA_VISIBLE_DEVICES."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None or visible.strip() == "":
        return [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
    handles = []
    for token in (t.strip() for t in visible.split(",")):
        if token.startswith("MIG-"):
            raise MeterError(
                f"CUDA_VISIBLE_DEVICES names MIG instance {token}: NVML reports energy per physical GPU, "
                "not per MIG instance, so llem refuses to attribute it. Run on a whole GPU."
            )
        if token.startswith("GPU-"):
            handles.append(pynvml.nvmlDeviceGetHandleByUUID(token))
        elif token.isdigit():
            handles.append(pynvml.nvmlDeviceGetHandleByIndex(int(token)))
        else:
            break  # CUDA stops at the first invalid entry
    return handles


class NvmlMeter(Meter):
    name = "nvml"

    def __init__(self) -> None:
        try:
            pynvml.nvmlInit()
            self._handles = _visible_handles()
        except pynvml.NVMLError as exc:
            raise MeterError(f"NVML failed to initialise: {exc}") from exc
        self._has_counter = [
            _or_none(pynvml.nvmlDeviceGetTotalEnergyConsumption, h) is not None for h in self._handles
        ]
        for index, has in enumerate(self._has_counter):
            if not has:
                log.warning(
                    "GPU %d has no total-energy counter: energy falls back to integrated power", index
                )

    @property
    def has_energy_counter(self) -> bool:
        return bool(self._handles) and all(self._has_counter)

    def devices(self) -> list[GpuInfo]:
        out = []
        for index, h in enumerate(self._handles):
            mem = _or_none(pynvml.nvmlDeviceGetMemoryInfo, h)
            limit_mw = _or_none(pynvml.nvmlDeviceGetEnforcedPowerLimit, h)
            mig = _or_none(pynvml.nvmlDeviceGetMigMode, h)
            out.append(
                GpuInfo(
                    index=index,
                    name=str(pynvml.nvmlDeviceGetName(h)),
                    uuid=str(pynvml.nvmlDeviceGetUUID(h)),
                    memory_total_bytes=int(mem.total) if mem is not None else None,
                    power_limit_w=limit_mw / 1000 if limit_mw is not None else None,
                    mig_enabled=bool(mig[0]) if mig is not None else None,
                )
            )
        return out

    def driver_info(self) -> dict[str, str | None]:
        cuda = _or_none(pynvml.nvmlSystemGetCudaDriverVersion)
        return {
            "gpu_driver_version": _or_none(lambda: str(pynvml.nvmlSystemGetDriverVersion())),
            "cuda_driver_version": f"{cuda // 1000}.{cuda % 1000 // 10}" if cuda else None,
            "nvml_version": _or_none(lambda: str(pynvml.nvmlSystemGetNVMLVersion())),
        }

    def _power_fields_w(self, h: Any) -> tuple[float | None, float | None]:
        fields = _or_none(
            pynvml.nvmlDeviceGetFieldValues,
            h,
            [pynvml.NVML_FI_DEV_POWER_INSTANT, pynvml.NVML_FI_DEV_POWER_AVERAGE],
        )
        if fields is None:
            return None, None
        values = [f.value.uiVal / 1000 if f.nvmlReturn == pynvml.NVML_SUCCESS else None for f in fields]
        return values[0], values[1]

    def read(self, at: datetime) -> list[MetricSample]:
        samples = []
        for index, h in enumerate(self._handles):
            instant_w, average_w = self._power_fields_w(h)
            usage_mw = _or_none(pynvml.nvmlDeviceGetPowerUsage, h)
            energy_mj = _or_none(pynvml.nvmlDeviceGetTotalEnergyConsumption, h)
            util = _or_none(pynvml.nvmlDeviceGetUtilizationRates, h)
            mem = _or_none(pynvml.nvmlDeviceGetMemoryInfo, h)
            samples.append(
                MetricSample(
                    sampled_at=at,
                    gpu_index=index,
                    power_w=instant_w if instant_w is not None else (usage_mw / 1000 if usage_mw else None),
                    power_avg_w=average_w,
                    energy_counter_j=energy_mj / 1000 if energy_mj is not None else None,
                    temperature_c=_or_none(pynvml.nvmlDeviceGetTemperature, h, pynvml.NVML_TEMPERATURE_GPU),
                    gpu_utilization_pct=float(util.gpu) if util is not None else None,
                    memory_used_bytes=int(mem.used) if mem is not None else None,
                    sm_clock_mhz=_or_none(pynvml.nvmlDeviceGetClockInfo, h, pynvml.NVML_CLOCK_SM),
                    memory_clock_mhz=_or_none(pynvml.nvmlDeviceGetClockInfo, h, pynvml.NVML_CLOCK_MEM),
                )
            )
        return samples

    def close(self) -> None:
        _or_none(pynvml.nvmlShutdown)
