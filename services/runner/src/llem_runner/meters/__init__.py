"""Meters: probes, a fixed-order factory, and the empty stand-in when nothing can measure."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal

from llem_runner.errors import BackendUnavailable
from llem_runner.meters.base import Meter, ThrottleReason
from llem_runner.meters.none import NoneMeter
from llem_schemas.measurement import MeterName

log = logging.getLogger(__name__)


def create_meter(choice: Literal["auto", "nvml", "rapl", "none"]) -> Meter:
    """`auto`: NVML when a GPU is visible, else RAPL when readable, else the `none` meter (energy
    null, flagged). An explicit choice that cannot measure here raises BackendUnavailable."""
    if choice == "none":
        return NoneMeter()
    if choice in ("auto", "nvml"):
        from llem_runner.meters import nvml  # lazy: the vendor libraries load only when asked for

        if nvml.nvml_is_available():
            return nvml.NvmlMeter()
        if choice == "nvml":
            raise BackendUnavailable(
                "the job asks for the nvml meter, but NVML is not available on this runner "
                "(no NVIDIA driver, or no GPU visible)"
            )
    from llem_runner.meters import rapl

    if rapl.rapl_is_available():
        return rapl.RaplMeter()
    if choice == "rapl":
        raise BackendUnavailable(
            f"the job asks for the rapl meter, but no RAPL package counter is readable under "
            f"{rapl.POWERCAP_ROOT} (no powercap RAPL, or energy_uj readable by root only)"
        )
    log.warning("no energy meter available (neither NVML nor RAPL): energy will be null and flagged")
    return NoneMeter()


def _no_throttle_reasons(mask: int) -> list[ThrottleReason]:
    return []


def throttle_decoder(meter: MeterName) -> Callable[[int], list[ThrottleReason]]:
    """How to read the `throttle_reasons` bitmask in the samples of `meter`: as vendor-neutral
    reasons, each meter's bits known only to that meter. Meters that record none read as none."""
    if meter == "nvml":
        from llem_runner.meters import nvml

        return nvml.throttle_reasons
    return _no_throttle_reasons


__all__ = ["Meter", "NoneMeter", "ThrottleReason", "create_meter", "throttle_decoder"]
