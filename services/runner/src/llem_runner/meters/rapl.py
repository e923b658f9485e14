"""CPU package and DRAM energy through Linux powercap RAPL (`/sys/class/powercap`).

Zones `intel-rapl:N` are packages (name `package-N`); subzones `intel-rapl:N:M` are `core`,
`uncore` or `dram`. Packages are summed into `cpu_package_energy_counter_j`, DRAM zones into
`dram_energy_counter_j` (core and uncore are parts of the package; `psys` is left out). AMD CPUs
appear under the same `intel-rapl` names (kernel driver `intel_rapl_msr`); `amd-rapl:` names are
accepted too. Each `energy_uj` counter wraps at its `max_energy_range_uj`: the meter keeps every
zone's last raw value and adds the deltas modulo that range, so it reports a monotonic cumulative
joule count. Since Linux 5.10 `energy_uj` is readable by root only (CVE-2020-8694).
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from llem_runner.errors import BackendUnavailable, MeterError
from llem_runner.meters.base import Meter
from llem_schemas.measurement import GpuInfo, MetricSample

__all__ = ["POWERCAP_ROOT", "RaplMeter", "rapl_is_available"]

log = logging.getLogger(__name__)

POWERCAP_ROOT = Path("/sys/class/powercap")
_ZONE = re.compile(r"^(?:intel|amd)-rapl:\d+(?::\d+)?$")
Kind = Literal["package", "dram"]


def _kind(zone: Path) -> Kind | None:
    try:
        name = (zone / "name").read_text().strip()
    except OSError:
        return None
    if name.startswith("package"):
        return "package"
    return "dram" if name == "dram" else None


def _zones(root: Path) -> list[tuple[Path, Kind]]:
    """Package and DRAM zones, each once: flat (sysfs class links) or nested (device tree) layout."""
    found: dict[str, Path] = {}
    for path in sorted([*root.glob("*rapl*"), *root.glob("*rapl*/*rapl*")]):
        if _ZONE.match(path.name) and path.name not in found:
            found[path.name] = path
    out = []
    for path in found.values():
        kind = _kind(path)
        if kind is not None:
            out.append((path, kind))
    return out


def _read_uj(path: Path) -> int:
    return int(path.read_text().strip())


def rapl_is_available(root: Path = POWERCAP_ROOT) -> bool:
    """Probe: True when at least one RAPL package zone's `energy_uj` can be read."""
    for zone, kind in _zones(root):
        if kind != "package":
            continue
        try:
            _read_uj(zone / "energy_uj")
        except PermissionError:
            log.warning(
                "RAPL: %s is not readable by this user (root only since Linux 5.10)", zone / "energy_uj"
            )
        except (OSError, ValueError) as exc:
            log.info("RAPL: cannot read %s: %s", zone / "energy_uj", exc)
        else:
            return True
    log.info("RAPL not available: no readable package zone under %s", root)
    return False


@dataclass
class _Counter:
    path: Path
    kind: Kind
    range_uj: int | None  # the value at which energy_uj wraps to 0; None when unknown
    last_uj: int
    total_uj: int

    def advance(self, raw_uj: int) -> None:
        delta = raw_uj - self.last_uj
        if delta < 0:
            if self.range_uj is None:
                raise MeterError(f"RAPL counter {self.path} went backwards and its wrap range is unknown")
            delta %= self.range_uj
        self.last_uj = raw_uj
        self.total_uj += delta


def _open(zone: Path, kind: Kind) -> _Counter:
    try:
        raw = _read_uj(zone / "energy_uj")
    except (OSError, ValueError) as exc:
        raise BackendUnavailable(f"RAPL: cannot read {zone / 'energy_uj'}: {exc}") from exc
    try:
        range_uj: int | None = _read_uj(zone / "max_energy_range_uj")
    except (OSError, ValueError):
        range_uj = None
    if range_uj is not None and range_uj <= 0:
        range_uj = None
    if range_uj is None:
        log.warning("RAPL: %s has no usable max_energy_range_uj: a wrap would stop the run", zone)
    return _Counter(zone / "energy_uj", kind, range_uj, raw, raw)


class RaplMeter(Meter):
    """Host-level CPU package (+ DRAM) energy; one sample per read, with no GPU index."""

    name = "rapl"

    def __init__(self, root: Path = POWERCAP_ROOT) -> None:
        self._counters = [_open(zone, kind) for zone, kind in _zones(root)]
        if not any(c.kind == "package" for c in self._counters):
            raise BackendUnavailable(f"RAPL: no package zone under {root}")
        self._has_dram = any(c.kind == "dram" for c in self._counters)
        self._lock = threading.Lock()

    def devices(self) -> list[GpuInfo]:
        return []

    def _total_j(self, kind: Kind) -> float:
        return sum(c.total_uj for c in self._counters if c.kind == kind) / 1e6

    def read(self, at: datetime) -> list[MetricSample]:
        with self._lock:
            for c in self._counters:
                try:
                    raw = _read_uj(c.path)
                except (OSError, ValueError) as exc:
                    raise MeterError(f"RAPL: cannot read {c.path}: {exc}") from exc
                c.advance(raw)
            package_j = self._total_j("package")
            dram_j = self._total_j("dram") if self._has_dram else None
        return [
            MetricSample(
                sampled_at=at,
                gpu_index=None,
                cpu_package_energy_counter_j=package_j,
                dram_energy_counter_j=dram_j,
            )
        ]
