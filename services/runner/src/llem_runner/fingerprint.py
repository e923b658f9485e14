"""Host/environment fingerprint recorded with every run."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
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


def model_sha256(path: Path, cache_file: Path | None = None) -> str | None:
    """SHA-256 of a model file, cached by (path, size, mtime) since model files are large."""
    try:
        stat = path.stat()
    except OSError:
        return None
    key = f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    cache: dict[str, str] = {}
    if cache_file is not None and cache_file.is_file():
        with contextlib.suppress(OSError, json.JSONDecodeError):
            cache = json.loads(cache_file.read_text())
        if key in cache:
            return cache[key]
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(8 * 1024 * 1024), b""):
            digest.update(chunk)
    cache[key] = digest.hexdigest()
    if cache_file is not None:
        with contextlib.suppress(OSError):
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            cache_file.write_text(json.dumps(cache, indent=2))
    return cache[key]


def host_fingerprint(
    meter: Meter, backend: Backend, model: str | None = None, model_sha: str | None = None
) -> HostFingerprint:
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
        model=model,
        model_sha256=model_sha,
        llem_version=llem_version(),
    )
