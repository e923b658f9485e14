"""The meter interface. A meter reads instantaneous device state; the sampler turns reads into series."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime

from llem_runner.errors import JobRejected
from llem_schemas.measurement import GpuInfo, MeterName, MetricSample


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
