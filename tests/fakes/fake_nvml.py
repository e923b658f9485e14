# ruff: noqa: N802 (the method names are pynvml's)
"""A FAKE NVML module, for tests of the NVML meter's own logic. It is never a measurement.

It implements only the calls and constants `llem_runner.meters.nvml` uses, and returns whatever
numbers the test configured on each `FakeGpu`. Errors are the real `pynvml` error classes and
codes (`pynvml.NVMLError(code)` builds the real subclass, for instance `NVMLError_GpuIsLost`), so
the meter's `except` clauses and `.value` checks run exactly as they would against the driver.
A handle is simply the `FakeGpu` it stands for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType, SimpleNamespace
from typing import NoReturn

import pynvml

NOT_SUPPORTED = pynvml.NVML_ERROR_NOT_SUPPORTED
GPU_IS_LOST = pynvml.NVML_ERROR_GPU_IS_LOST


def _raise(code: int) -> NoReturn:
    raise pynvml.NVMLError(code)


@dataclass
class FakeGpu:
    """One fake GPU. A value set to None makes its getter raise `unsupported_error`."""

    name: str = "FAKE GPU (test stand-in)"
    uuid: str = "GPU-00000000-fake-0000-0000-000000000000"
    energy_mj: int | None = 1_000_000  # total-energy counter; None: no counter on this GPU
    energy_step_mj: int = 5_000  # the counter advances this much on every read
    power_mw: int | None = 150_000
    power_avg_mw: int | None = 140_000
    power_fields: bool = True  # False: nvmlDeviceGetFieldValues itself is not supported
    temperature_c: int | None = 55
    sm_clock_mhz: int | None = 1_980
    memory_clock_mhz: int | None = 2_619
    throttle_mask: int | None = 0
    clocks_event_api: bool = True  # False: a pre-535 driver, the clocks-event call is not found
    utilization_pct: int | None = 90
    memory_total_bytes: int = 80 * 2**30
    memory_used_bytes: int = 20 * 2**30
    power_limit_mw: int | None = 700_000
    power_limit_range_mw: tuple[int, int] | None = (200_000, 700_000)
    set_limit_error: int | None = None  # nvmlDeviceSetPowerManagementLimit raises this
    enforced_lag_reads: int = 0  # after a set, the enforced limit reads the old value this many times
    lag_left: int = 0
    previous_limit_mw: int | None = None
    mig_mode: int | None = 0
    unsupported_error: int = NOT_SUPPORTED
    fail_after_calls: int | None = None  # after this many calls, every call raises `fail_with`
    fail_with: int = GPU_IS_LOST
    calls: int = 0

    def touch(self) -> None:
        if self.fail_after_calls is not None and self.calls >= self.fail_after_calls:
            _raise(self.fail_with)
        self.calls += 1

    def value(self, v: int | None) -> int:
        self.touch()
        if v is None:
            _raise(self.unsupported_error)
        return v


class FakeNvml(ModuleType):
    """Stands in for the `pynvml` module: pass it as `NvmlMeter(nvml=FakeNvml([...]))`."""

    NVMLError = pynvml.NVMLError
    NVML_SUCCESS = pynvml.NVML_SUCCESS
    NVML_ERROR_NOT_SUPPORTED = pynvml.NVML_ERROR_NOT_SUPPORTED
    NVML_ERROR_NO_PERMISSION = pynvml.NVML_ERROR_NO_PERMISSION
    NVML_ERROR_FUNCTION_NOT_FOUND = pynvml.NVML_ERROR_FUNCTION_NOT_FOUND
    NVML_FI_DEV_POWER_INSTANT = pynvml.NVML_FI_DEV_POWER_INSTANT
    NVML_FI_DEV_POWER_AVERAGE = pynvml.NVML_FI_DEV_POWER_AVERAGE
    NVML_TEMPERATURE_GPU = pynvml.NVML_TEMPERATURE_GPU
    NVML_CLOCK_SM = pynvml.NVML_CLOCK_SM
    NVML_CLOCK_MEM = pynvml.NVML_CLOCK_MEM

    def __init__(
        self,
        gpus: Sequence[FakeGpu] = (),
        *,
        init_error: int | None = None,
        driver_version: str = "000.00.fake",
        cuda_driver_version: int = 12040,
        nvml_version: str = "00.000.fake",
    ) -> None:
        super().__init__("fake_nvml", __doc__)
        self.gpus = list(gpus)
        self.init_error = init_error
        self.driver_version = driver_version
        self.cuda_driver_version = cuda_driver_version
        self.nvml_version = nvml_version
        self.initialised = 0  # nvmlInit minus nvmlShutdown calls, like NVML's reference count

    def _ready(self) -> None:
        if self.initialised <= 0:
            _raise(pynvml.NVML_ERROR_UNINITIALIZED)

    def _gpu(self, handle: FakeGpu) -> FakeGpu:
        self._ready()
        handle.touch()
        return handle

    # -- library --------------------------------------------------------------------------------

    def nvmlInit(self) -> None:
        if self.init_error is not None:
            _raise(self.init_error)
        self.initialised += 1

    def nvmlShutdown(self) -> None:
        self._ready()
        self.initialised -= 1

    def nvmlSystemGetDriverVersion(self) -> str:
        self._ready()
        return self.driver_version

    def nvmlSystemGetCudaDriverVersion(self) -> int:
        self._ready()
        return self.cuda_driver_version

    def nvmlSystemGetNVMLVersion(self) -> str:
        self._ready()
        return self.nvml_version

    def nvmlDeviceGetCount(self) -> int:
        self._ready()
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> FakeGpu:
        self._ready()
        if not 0 <= index < len(self.gpus):
            _raise(pynvml.NVML_ERROR_INVALID_ARGUMENT)
        return self.gpus[index]

    # -- device ---------------------------------------------------------------------------------

    def nvmlDeviceGetName(self, handle: FakeGpu) -> str:
        return self._gpu(handle).name

    def nvmlDeviceGetUUID(self, handle: FakeGpu) -> str:
        return self._gpu(handle).uuid

    def nvmlDeviceGetMemoryInfo(self, handle: FakeGpu) -> SimpleNamespace:
        gpu = self._gpu(handle)
        free = gpu.memory_total_bytes - gpu.memory_used_bytes
        return SimpleNamespace(total=gpu.memory_total_bytes, used=gpu.memory_used_bytes, free=free)

    def nvmlDeviceGetEnforcedPowerLimit(self, handle: FakeGpu) -> int:
        self._ready()
        if handle.lag_left > 0:
            handle.lag_left -= 1
            return handle.value(handle.previous_limit_mw)
        return handle.value(handle.power_limit_mw)

    def nvmlDeviceGetPowerManagementLimit(self, handle: FakeGpu) -> int:
        self._ready()
        return handle.value(handle.power_limit_mw)

    def nvmlDeviceGetPowerManagementLimitConstraints(self, handle: FakeGpu) -> list[int]:
        self._ready()
        handle.touch()
        if handle.power_limit_range_mw is None:
            _raise(handle.unsupported_error)
        return list(handle.power_limit_range_mw)

    def nvmlDeviceSetPowerManagementLimit(self, handle: FakeGpu, limit_mw: int) -> None:
        self._ready()
        handle.touch()
        if handle.set_limit_error is not None:
            _raise(handle.set_limit_error)
        low, high = handle.power_limit_range_mw or (0, 0)
        if not low <= limit_mw <= high:
            _raise(pynvml.NVML_ERROR_INVALID_ARGUMENT)
        handle.previous_limit_mw, handle.lag_left = handle.power_limit_mw, handle.enforced_lag_reads
        handle.power_limit_mw = limit_mw

    def nvmlDeviceGetMigMode(self, handle: FakeGpu) -> list[int]:
        self._ready()
        mode = handle.value(handle.mig_mode)
        return [mode, mode]

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: FakeGpu) -> int:
        self._ready()
        value = handle.value(handle.energy_mj)
        handle.energy_mj = value + handle.energy_step_mj
        return value

    def nvmlDeviceGetFieldValues(self, handle: FakeGpu, field_ids: list[int]) -> list[SimpleNamespace]:
        gpu = self._gpu(handle)
        if not gpu.power_fields:
            _raise(gpu.unsupported_error)
        by_id = {
            self.NVML_FI_DEV_POWER_INSTANT: gpu.power_mw,
            self.NVML_FI_DEV_POWER_AVERAGE: gpu.power_avg_mw,
        }
        out = []
        for field_id in field_ids:
            v = by_id.get(field_id)
            ret = pynvml.NVML_SUCCESS if v is not None else gpu.unsupported_error
            out.append(SimpleNamespace(fieldId=field_id, nvmlReturn=ret, value=SimpleNamespace(uiVal=v or 0)))
        return out

    def nvmlDeviceGetPowerUsage(self, handle: FakeGpu) -> int:
        self._ready()
        return handle.value(handle.power_mw)

    def nvmlDeviceGetUtilizationRates(self, handle: FakeGpu) -> SimpleNamespace:
        self._ready()
        return SimpleNamespace(gpu=handle.value(handle.utilization_pct), memory=0)

    def nvmlDeviceGetTemperature(self, handle: FakeGpu, sensor: int) -> int:
        assert sensor == self.NVML_TEMPERATURE_GPU
        self._ready()
        return handle.value(handle.temperature_c)

    def nvmlDeviceGetClockInfo(self, handle: FakeGpu, clock: int) -> int:
        self._ready()
        clocks = {self.NVML_CLOCK_SM: handle.sm_clock_mhz, self.NVML_CLOCK_MEM: handle.memory_clock_mhz}
        return handle.value(clocks[clock])

    def nvmlDeviceGetCurrentClocksEventReasons(self, handle: FakeGpu) -> int:
        self._ready()
        if not handle.clocks_event_api:
            handle.touch()
            _raise(pynvml.NVML_ERROR_FUNCTION_NOT_FOUND)
        return handle.value(handle.throttle_mask)

    def nvmlDeviceGetCurrentClocksThrottleReasons(self, handle: FakeGpu) -> int:
        self._ready()
        return handle.value(handle.throttle_mask)
