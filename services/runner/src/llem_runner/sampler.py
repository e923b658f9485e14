"""A thread that reads the meter every sampling period while a run goes on."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from llem_runner.meters.base import Meter
from llem_schemas.measurement import MetricSample


@dataclass
class TokenCounters:
    """Cumulative counters of the measured run, written by the inference thread."""

    requests_completed: int = 0
    prompt_tokens: int | None = 0  # None once any request could not report its prompt tokens
    output_tokens: int = 0


class Sampler:
    def __init__(self, meter: Meter, period_s: float, counters: TokenCounters) -> None:
        self.meter = meter
        self.period_s = period_s
        self.counters = counters
        self._pending: list[MetricSample] = []
        self.all_samples: list[MetricSample] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="llem-sampler", daemon=True)
        self._error: Exception | None = None  # a meter failure (e.g. a lost GPU) voids the run

    def _take(self) -> None:
        now = datetime.now(UTC)
        counts = {
            "requests_completed_total": self.counters.requests_completed,
            "prompt_tokens_total": self.counters.prompt_tokens,
            "output_tokens_total": self.counters.output_tokens,
        }
        device_samples = self.meter.read(now)
        samples = (
            [s.model_copy(update=counts) for s in device_samples]
            if device_samples
            else [MetricSample(sampled_at=now, **counts)]
        )
        with self._lock:
            self._pending.extend(samples)
            self.all_samples.extend(samples)

    def _loop(self) -> None:
        while not self._stop.wait(self.period_s):
            try:
                self._take()
            except Exception as exc:
                self._error = exc
                return

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def start(self) -> None:
        self._take()  # a reading exactly at the window start
        self._thread.start()

    def mark(self) -> None:
        """Take a reading now, for instance at a repetition boundary."""
        self._take()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._raise_if_failed()
        self._take()  # and one at the window end

    def drain(self) -> list[MetricSample]:
        self._raise_if_failed()
        with self._lock:
            out, self._pending = self._pending, []
        return out
