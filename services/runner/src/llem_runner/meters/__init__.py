"""Meters: a probe, a fixed-order factory, and the empty stand-in when nothing can measure."""

from __future__ import annotations

from typing import Literal

from llem_runner.errors import BackendUnavailable
from llem_runner.meters.base import Meter
from llem_runner.meters.none import NoneMeter


def create_meter(choice: Literal["auto", "nvml", "rapl", "none"]) -> Meter:
    """`auto`: NVML when a GPU is visible, else the `none` meter (energy null, flagged)."""
    if choice == "none":
        return NoneMeter()
    if choice == "rapl":
        raise BackendUnavailable("the rapl meter is not implemented yet")
    from llem_runner.meters.nvml import NvmlMeter, nvml_is_available

    if nvml_is_available():
        return NvmlMeter()
    if choice == "nvml":
        raise BackendUnavailable("the job asks for the nvml meter, but NVML sees no GPU on this runner")
    return NoneMeter()


__all__ = ["Meter", "NoneMeter", "create_meter"]
