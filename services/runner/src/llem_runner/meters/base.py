"""The meter interface. A meter reads instantaneous device state; the sampler turns reads into series."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from llem_runner.errors import JobRejected
from llem_schemas.measurement import GpuInfo, MeterName, MetricSample


class ThrottleReason(StrEnum):
    """Why a device ran below the clocks it asked for, in no vendor's terms: each meter translates
    its own bits into these. The values are the names the THROTTLED quality flag lists, in this order.
    Reasons that do not hold a device back (idle, application clocks, sync boost) are not among them."""

    SW_POWER_CAP = "sw_power_cap"  # software lowers clocks to keep power within the power limit
    HW_SLOWDOWN = "hw_slowdown"  # the hardware slowed itself (too hot, drawing too much, power brake)
    SW_THERMAL = "sw_thermal"  # software lowers clocks: above the maximum operating temperature
    HW_THERMAL = "hw_thermal"  # the hardware slowed itself for temperature
    HW_POWER_BRAKE = "hw_power_brake"  # an external power-brake signal (e.g. from the power supply)


class Meter(ABC):
    """One vendor's energy and telemetry source."""

    name: MeterName

    @abstractmethod
    def devices(self) -> list[GpuInfo]:
        """The devices this meter measures (empty for host-only meters)."""

    @abstractmethod
    def read(self, at: datetime) -> list[MetricSample]:
        """One sample per device, stamped `at`. Values that cannot be read are None."""

    def set_power_limit(self, watts: float) -> Callable[[], None]:
        """Set every measured GPU's power limit; returns the function that restores the old ones."""
        raise JobRejected(f"the {self.name} meter cannot set a GPU power limit (power_limit_w needs NVML)")

    def driver_info(self) -> dict[str, str | None]:
        """Driver/library versions for the host fingerprint."""
        return {}

    def close(self) -> None:  # noqa: B027 (optional hook)
        """Release the vendor library."""
