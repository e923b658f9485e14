"""Idle baseline power: measured with the job's meter before the model loads, cached per host.

The cache key is the meter and the exact devices it measures (GPU UUIDs), so a baseline is never
reused for other hardware. The cache is a small JSON file in the runner's state directory.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from llem_runner.meters.base import Meter
from llem_runner.sampler import Sampler, TokenCounters
from llem_runner.windows import energy_in_window

log = logging.getLogger("llem.runner.baseline")


@dataclass(frozen=True)
class IdleBaseline:
    power_w: float
    measured_at: datetime
    duration_s: float


def _key(meter: Meter) -> str:
    return meter.name + ":" + ",".join(sorted(d.uuid for d in meter.devices()))


def measure(meter: Meter, duration_s: float, period_s: float) -> IdleBaseline | None:
    """Average power over an idle window; None when the meter measures no energy."""
    sampler = Sampler(meter, period_s, TokenCounters())
    sampler.start()
    time.sleep(duration_s)
    sampler.stop()
    samples = sampler.all_samples
    start, end = samples[0].sampled_at, samples[-1].sampled_at
    energy_j = energy_in_window(samples, start, end).total_j
    seconds = (end - start).total_seconds()
    if energy_j is None or seconds <= 0:
        return None
    return IdleBaseline(power_w=energy_j / seconds, measured_at=start, duration_s=seconds)


class BaselineCache:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> dict[str, dict[str, object]]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, json.JSONDecodeError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, meter: Meter, max_age_s: float) -> IdleBaseline | None:
        entry = self._load().get(_key(meter))
        if not entry:
            return None
        baseline = IdleBaseline(
            power_w=float(str(entry["power_w"])),
            measured_at=datetime.fromisoformat(str(entry["measured_at"])),
            duration_s=float(str(entry["duration_s"])),
        )
        age_s = (datetime.now(UTC) - baseline.measured_at).total_seconds()
        return baseline if 0 <= age_s <= max_age_s else None

    def put(self, meter: Meter, baseline: IdleBaseline) -> None:
        data = self._load()
        entry = asdict(baseline)
        entry["measured_at"] = baseline.measured_at.isoformat()
        data[_key(meter)] = entry
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(data, indent=2))
        except OSError as exc:
            log.warning("idle baseline not cached at %s: %s", self.path, exc)

    def get_or_measure(
        self, meter: Meter, duration_s: float, period_s: float, max_age_s: float
    ) -> IdleBaseline | None:
        if duration_s <= 0 or meter.name == "none":
            return None
        cached = self.get(meter, max_age_s)
        if cached is not None:
            return cached
        baseline = measure(meter, duration_s, period_s)
        if baseline is not None:
            self.put(meter, baseline)
        return baseline
