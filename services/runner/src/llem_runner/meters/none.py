"""The empty stand-in: measures nothing, so every energy field stays null and the run is flagged."""

from __future__ import annotations

from datetime import datetime

from llem_runner.meters.base import Meter
from llem_schemas.measurement import GpuInfo, MetricSample


class NoneMeter(Meter):
    name = "none"

    def devices(self) -> list[GpuInfo]:
        return []

    def read(self, at: datetime) -> list[MetricSample]:
        return []
