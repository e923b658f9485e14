"""Host/environment fingerprint recorded with every run."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import socket
from pathlib import Path

from llem_runner.backends.base import Backend
from llem_runner.meters.base import Meter
from llem_schemas.measurement import HostFingerprint


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return platform.processor() or None


def _memory_total_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return None


def llem_version() -> str:
    return importlib.metadata.version("llem-runner")


def host_fingerprint(meter: Meter, backend: Backend) -> HostFingerprint:
    info = meter.driver_info()
    return HostFingerprint(
        hostname=socket.gethostname(),
        os=f"{platform.system()} {platform.release()}",
        python_version=platform.python_version(),
        cpu_model=_cpu_model(),
        cpu_count=os.cpu_count(),
        memory_total_bytes=_memory_total_bytes(),
        gpus=meter.devices(),
        gpu_driver_version=info.get("gpu_driver_version"),
        cuda_driver_version=info.get("cuda_driver_version"),
        nvml_version=info.get("nvml_version"),
        backend=backend.kind,
        backend_version=backend.version,
        llem_version=llem_version(),
    )
