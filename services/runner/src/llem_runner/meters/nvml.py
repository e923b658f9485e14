"""NVIDIA GPUs through NVML (`nvidia-ml-py`, module `pynvml`).

Energy comes from the total-energy counter (mJ since driver load, Volta+); power, temperature,
clocks, throttle reasons, utilisation and memory are sampled. NVML errors are translated in one
place (`_get` / `_must`): a value the device or driver does not offer is None, never a guess; any
other error (a lost GPU above all) raises MeterError, because a run on a failing GPU must not be
reported. The NVML module is injectable so the meter's logic can be tested without a GPU.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from types import ModuleType
from typing import Any, TypeVar

import pynvml

from llem_runner.errors import JobRejected, MeterError
from llem_runner.meters.base import Meter, ThrottleReason
from llem_runner.meters.cuda_visible import visible_indices
from llem_schemas.measurement import GpuInfo, MetricSample

__all__ = ["NvmlMeter", "nvml_is_available", "throttle_reasons"]

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Clocks-event reasons that mean the GPU was held back (not "GPU idle", application clocks,
#: sync boost or display clocks), in bit order, as vendor-neutral reasons.
_THROTTLE_BITS = (
    (pynvml.nvmlClocksEventReasonSwPowerCap, ThrottleReason.SW_POWER_CAP),
    (pynvml.nvmlClocksEventReasonHwSlowdown, ThrottleReason.HW_SLOWDOWN),
    (pynvml.nvmlClocksEventReasonSwThermalSlowdown, ThrottleReason.SW_THERMAL),
    (pynvml.nvmlClocksEventReasonHwThermalSlowdown, ThrottleReason.HW_THERMAL),
    (pynvml.nvmlClocksEventReasonHwPowerBrakeSlowdown, ThrottleReason.HW_POWER_BRAKE),
)


def throttle_reasons(mask: int) -> list[ThrottleReason]:
    """The real-throttling reasons set in an NVML clocks-event bitmask (`MetricSample.throttle_reasons`)."""
    return [reason for bit, reason in _THROTTLE_BITS if mask & bit]


def _shutdown(nvml: ModuleType) -> None:
    try:
        nvml.nvmlShutdown()
    except nvml.NVMLError as exc:
        log.debug("nvmlShutdown failed: %s", exc)


def nvml_is_available(nvml: ModuleType | None = None) -> bool:
    """Probe: True when the NVML library loads and sees at least one GPU."""
    n = pynvml if nvml is None else nvml
    try:
        n.nvmlInit()
    except n.NVMLError as exc:
        log.info("NVML not available: %s", exc)
        return False
    try:
        return bool(n.nvmlDeviceGetCount() > 0)
    except n.NVMLError as exc:
        log.info("NVML loaded but cannot count GPUs: %s", exc)
        return False
    finally:
        _shutdown(n)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class NvmlMeter(Meter):
    name = "nvml"

    def __init__(self, nvml: ModuleType | None = None) -> None:
        n = self._nvml = pynvml if nvml is None else nvml
        self._unsupported = frozenset(
            {n.NVML_ERROR_NOT_SUPPORTED, n.NVML_ERROR_NO_PERMISSION, n.NVML_ERROR_FUNCTION_NOT_FOUND}
        )
        self._must(None, "initialise NVML", n.nvmlInit)
        try:
            self._handles = self._visible_handles()
            self._has_counter = [
                self._get(i, "total energy", n.nvmlDeviceGetTotalEnergyConsumption, h) is not None
                for i, h in enumerate(self._handles)
            ]
            self._throttle_fn = self._throttle_getter()
        except BaseException:
            self.close()
            raise
        for index, has in enumerate(self._has_counter):
            if not has:
                log.warning(
                    "GPU %d has no total-energy counter: energy falls back to integrated power", index
                )

    # -- the error boundary: every NVML read goes through one of these two -----------------------

    def _get(self, gpu: int | None, what: str, fn: Callable[..., T], *args: Any) -> T | None:
        """An optional value: None when not supported / not permitted / not in this driver."""
        try:
            return fn(*args)
        except self._nvml.NVMLError as exc:
            self._translate(gpu, what, exc)
            return None

    def _must(self, gpu: int | None, what: str, fn: Callable[..., T], *args: Any) -> T:
        """A value the meter cannot work without: any NVML error raises MeterError."""
        try:
            return fn(*args)
        except self._nvml.NVMLError as exc:
            raise self._error(gpu, what, exc) from exc

    def _translate(self, gpu: int | None, what: str, exc: Any) -> None:
        """Not supported / not permitted / not in this driver: nothing to do; anything else raises."""
        if exc.value in self._unsupported:
            return
        raise self._error(gpu, what, exc) from exc

    @staticmethod
    def _error(gpu: int | None, what: str, exc: Any) -> MeterError:
        where = f"GPU {gpu}" if gpu is not None else "NVML"
        return MeterError(f"{where}: {what} failed: {exc} (NVML error {exc.value})")

    # -- discovery --------------------------------------------------------------------------------

    def _visible_handles(self) -> list[Any]:
        """NVML handles in the order CUDA sees them, honouring CUDA_VISIBLE_DEVICES."""
        n = self._nvml
        count = self._must(None, "count GPUs", n.nvmlDeviceGetCount)
        every = [
            self._must(None, f"get the handle of NVML device {i}", n.nvmlDeviceGetHandleByIndex, i)
            for i in range(count)
        ]
        uuids = [
            _text(self._must(None, f"read the UUID of NVML device {i}", n.nvmlDeviceGetUUID, h))
            for i, h in enumerate(every)
        ]
        return [every[i] for i in visible_indices(uuids)]

    def _throttle_getter(self) -> Callable[[Any], int]:
        """Clocks-event reasons (driver 535+), else the older, deprecated throttle-reasons call."""
        n = self._nvml
        old: Callable[[Any], int] = n.nvmlDeviceGetCurrentClocksThrottleReasons
        new: Callable[[Any], int] | None = getattr(n, "nvmlDeviceGetCurrentClocksEventReasons", None)
        if new is None or not self._handles:
            return old
        try:
            new(self._handles[0])
        except n.NVMLError as exc:
            if exc.value == n.NVML_ERROR_FUNCTION_NOT_FOUND:
                return old
        return new

    @property
    def has_energy_counter(self) -> bool:
        return bool(self._handles) and all(self._has_counter)

    def devices(self) -> list[GpuInfo]:
        n, out = self._nvml, []
        for i, h in enumerate(self._handles):
            mem = self._get(i, "memory info", n.nvmlDeviceGetMemoryInfo, h)
            limit_mw = self._get(i, "power limit", n.nvmlDeviceGetEnforcedPowerLimit, h)
            mig = self._get(i, "MIG mode", n.nvmlDeviceGetMigMode, h)
            out.append(
                GpuInfo(
                    index=i,
                    name=_text(self._must(i, "read name", n.nvmlDeviceGetName, h)),
                    uuid=_text(self._must(i, "read UUID", n.nvmlDeviceGetUUID, h)),
                    memory_total_bytes=int(mem.total) if mem is not None else None,
                    power_limit_w=limit_mw / 1000 if limit_mw is not None else None,
                    mig_enabled=bool(mig[0]) if mig is not None else None,
                )
            )
        return out

    def set_power_limit(self, watts: float) -> Callable[[], None]:
        """All or nothing: a GPU that refuses leaves every GPU at its old limit. Permission and
        range problems are the job's (JobRejected, not retried); other NVML errors are MeterError."""
        n, target_mw = self._nvml, round(watts * 1000)
        changed: list[tuple[int, Any, int]] = []

        def restore() -> None:
            for i, h, old_mw in reversed(changed):
                try:
                    n.nvmlDeviceSetPowerManagementLimit(h, old_mw)
                    self._await_enforced(i, h, old_mw)
                except (n.NVMLError, MeterError) as exc:
                    log.error(
                        "GPU %d: could not restore its power limit to %.0f W: %s", i, old_mw / 1000, exc
                    )

        try:
            for i, h in enumerate(self._handles):
                low, high = self._must(
                    i, "power limit range", n.nvmlDeviceGetPowerManagementLimitConstraints, h
                )
                if not low <= target_mw <= high:
                    raise JobRejected(
                        f"power_limit_w {watts:g} is outside GPU {i}'s range {low / 1000:g}-{high / 1000:g} W"
                    )
                old_mw = self._must(i, "read power limit", n.nvmlDeviceGetPowerManagementLimit, h)
                try:
                    n.nvmlDeviceSetPowerManagementLimit(h, target_mw)
                except n.NVMLError as exc:
                    if exc.value == n.NVML_ERROR_NO_PERMISSION:
                        raise JobRejected(
                            f"GPU {i}: this runner may not set power limits (NVML: no permission; it needs"
                            " root or CAP_SYS_ADMIN)"
                        ) from exc
                    if exc.value == n.NVML_ERROR_NOT_SUPPORTED:
                        raise JobRejected(f"GPU {i} does not support setting a power limit") from exc
                    raise self._error(i, "set power limit", exc) from exc
                changed.append((i, h, old_mw))
            for i, h in enumerate(self._handles):  # the driver enforces a new limit a moment later
                self._await_enforced(i, h, target_mw)
        except BaseException:
            restore()
            raise
        log.info("power limit %.0f W set on %d GPU(s)", watts, len(changed))
        return restore

    def _await_enforced(self, i: int, h: Any, limit_mw: int, timeout_s: float = 5.0) -> None:
        """Measurement must not begin before the limit is in force (seen on an H100: the enforced
        limit still read the old value right after the set call)."""
        deadline = time.monotonic() + timeout_s
        while True:
            enforced = self._must(
                i, "read enforced power limit", self._nvml.nvmlDeviceGetEnforcedPowerLimit, h
            )
            if abs(enforced - limit_mw) < 1000:
                return
            if time.monotonic() > deadline:
                raise MeterError(
                    f"GPU {i}: enforced power limit still {enforced / 1000:g} W {timeout_s:g} s after"
                    f" setting {limit_mw / 1000:g} W"
                )
            time.sleep(0.02)

    def driver_info(self) -> dict[str, str | None]:
        n = self._nvml
        driver = self._get(None, "driver version", n.nvmlSystemGetDriverVersion)
        cuda = self._get(None, "CUDA driver version", n.nvmlSystemGetCudaDriverVersion)
        version = self._get(None, "NVML version", n.nvmlSystemGetNVMLVersion)
        return {
            "gpu_driver_version": _text(driver) if driver is not None else None,
            "cuda_driver_version": f"{cuda // 1000}.{cuda % 1000 // 10}" if cuda else None,
            "nvml_version": _text(version) if version is not None else None,
        }

    # -- sampling ---------------------------------------------------------------------------------

    def _power_w(self, i: int, h: Any) -> tuple[float | None, float | None]:
        """(instant, driver-averaged) board power: field values where supported, else power usage."""
        n = self._nvml
        ids = [n.NVML_FI_DEV_POWER_INSTANT, n.NVML_FI_DEV_POWER_AVERAGE]
        fields = self._get(i, "power fields", n.nvmlDeviceGetFieldValues, h, ids) or []
        values: list[float | None] = [None, None]
        for slot, f in enumerate(fields[:2]):
            if f.nvmlReturn == n.NVML_SUCCESS:
                values[slot] = f.value.uiVal / 1000
            else:
                self._translate(i, "power field", n.NVMLError(f.nvmlReturn))
        if values[0] is None:
            usage_mw = self._get(i, "power usage", n.nvmlDeviceGetPowerUsage, h)
            values[0] = usage_mw / 1000 if usage_mw is not None else None
        return values[0], values[1]

    def _sample(self, at: datetime, i: int, h: Any) -> MetricSample:
        n = self._nvml
        power_w, power_avg_w = self._power_w(i, h)
        energy_mj = (
            self._get(i, "total energy", n.nvmlDeviceGetTotalEnergyConsumption, h)
            if self._has_counter[i]
            else None
        )
        util = self._get(i, "utilisation", n.nvmlDeviceGetUtilizationRates, h)
        mem = self._get(i, "memory info", n.nvmlDeviceGetMemoryInfo, h)
        return MetricSample(
            sampled_at=at,
            gpu_index=i,
            power_w=power_w,
            power_avg_w=power_avg_w,
            energy_counter_j=energy_mj / 1000 if energy_mj is not None else None,
            temperature_c=self._get(i, "temperature", n.nvmlDeviceGetTemperature, h, n.NVML_TEMPERATURE_GPU),
            gpu_utilization_pct=float(util.gpu) if util is not None else None,
            memory_used_bytes=int(mem.used) if mem is not None else None,
            sm_clock_mhz=self._get(i, "SM clock", n.nvmlDeviceGetClockInfo, h, n.NVML_CLOCK_SM),
            memory_clock_mhz=self._get(i, "memory clock", n.nvmlDeviceGetClockInfo, h, n.NVML_CLOCK_MEM),
            throttle_reasons=self._get(i, "throttle reasons", self._throttle_fn, h),
        )

    def read(self, at: datetime) -> list[MetricSample]:
        return [self._sample(at, i, h) for i, h in enumerate(self._handles)]

    def close(self) -> None:
        _shutdown(self._nvml)
