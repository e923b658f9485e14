"""One measured repetition: its requests and the windows they ran in (read by the summary and the flags)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from llem_runner.backends.base import RequestResult

__all__ = ["Repetition"]


@dataclass(frozen=True)
class Repetition:
    index: int
    results: list[RequestResult]
    window_start: datetime
    window_end: datetime
    steady_start: datetime | None = None
    steady_end: datetime | None = None
    #: time.time() - time.monotonic() when the repetition ran: converts request times to wall clock.
    wall_offset_s: float = 0.0

    @property
    def duration_s(self) -> float:
        return (self.window_end - self.window_start).total_seconds()
