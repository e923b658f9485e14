"""`llem campaign watch`: one campaign's state, folded from its events by a pure reducer.

The same events the API streams (job states, progress, run lifecycle, metric batches) come from a
snapshot and from live subscriptions, possibly twice and out of order. Every rule here is order-free:
a job keeps its highest `revision`, progress its latest `occurred_at`, a run its earliest and latest
sample per device, so any interleaving of the same events gives the same state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from uuid import UUID

from llem_schemas.events import (
    AnyEvent,
    CampaignCancelled,
    CampaignProgress,
    CampaignSubmitted,
    JobStatus,
    JobStatusChanged,
    MetricBatch,
    RunCompleted,
    RunFailed,
    RunStarted,
)
from llem_schemas.measurement import MetricSample

STATUSES: tuple[JobStatus, ...] = ("queued", "running", "completed", "failed", "cancelled")
ENDED: frozenset[str] = frozenset({"completed", "failed", "cancelled"})

#: A sample's place in its run: time, then the batch it came in (a total order within one run).
SampleKey = tuple[datetime, int]


@dataclass(frozen=True)
class Reading:
    """A run's earliest and latest sample of one device (a GPU index, or None for the host)."""

    first: MetricSample
    first_key: SampleKey
    latest: MetricSample
    latest_key: SampleKey

    def merge(self, sample: MetricSample, key: SampleKey) -> Reading:
        out = self
        if key < out.first_key:
            out = replace(out, first=sample, first_key=key)
        if key > out.latest_key:
            out = replace(out, latest=sample, latest_key=key)
        return out


def _diff(reading: Reading, counter: Callable[[MetricSample], float | None]) -> float | None:
    """How much a cumulative counter rose over the run; None from a single sample (nothing measured)."""
    first, latest = counter(reading.first), counter(reading.latest)
    if first is None or latest is None or reading.first_key == reading.latest_key:
        return None
    return max(0.0, latest - first)


def _sum_all(values: Iterable[float | None]) -> float | None:
    """The sum, or None when there is nothing to sum or any part is missing (never a partial sum)."""
    values = list(values)
    if not values or any(v is None for v in values):
        return None
    return sum(v for v in values if v is not None)


@dataclass(frozen=True)
class RunView:
    run_id: UUID
    job_id: UUID
    runner_id: str
    attempt: int
    meter: str | None = None
    ended: bool = False
    devices: Mapping[int | None, Reading] = field(default_factory=dict)

    @property
    def _gpus(self) -> list[Reading]:
        return [r for index, r in self.devices.items() if index is not None]

    @property
    def power_w(self) -> float | None:
        """Sum of every GPU's latest power; None when any GPU (or the meter) gives no reading."""
        return _sum_all(r.latest.power_w for r in self._gpus)

    @property
    def energy_j(self) -> float | None:
        """GPU energy since the run's first sample, from the energy counters; None without them."""
        return _sum_all(_diff(r, lambda s: s.energy_counter_j) for r in self._gpus)

    @property
    def cpu_energy_j(self) -> float | None:
        """Host (RAPL package + DRAM) energy since the run's first sample; None without counters."""
        host = self.devices.get(None)
        if host is None:
            return None
        package = _diff(host, lambda s: s.cpu_package_energy_counter_j)
        dram = _diff(host, lambda s: s.dram_energy_counter_j)
        return None if package is None else package + (dram or 0.0)

    @property
    def output_tokens_per_s(self) -> float | None:
        """Output tokens per second between the run's earliest and latest token counters."""
        points = [
            (key[0], sample.output_tokens_total)
            for r in self.devices.values()
            for key, sample in ((r.first_key, r.first), (r.latest_key, r.latest))
            if sample.output_tokens_total is not None
        ]
        if len(points) < 2:
            return None
        (t0, n0), (t1, n1) = min(points), max(points)
        seconds = (t1 - t0).total_seconds()
        return (n1 - n0) / seconds if seconds > 0 and n1 is not None and n0 is not None else None


@dataclass(frozen=True)
class JobView:
    job_id: UUID
    status: JobStatus
    revision: int
    attempt: int
    runner_id: str | None
    run_id: UUID | None
    reason: str | None


@dataclass(frozen=True)
class WatchState:
    campaign_id: UUID
    name: str = ""
    job_count: int = 0
    cancelled: bool = False
    jobs: Mapping[UUID, JobView] = field(default_factory=dict)
    runs: Mapping[UUID, RunView] = field(default_factory=dict)
    progress: CampaignProgress | None = None

    def running(self) -> list[tuple[JobView, RunView | None]]:
        """Running jobs with their current run (if its events were seen), by runner."""
        jobs = sorted(
            (j for j in self.jobs.values() if j.status == "running"),
            key=lambda j: (j.runner_id or "", str(j.job_id)),
        )
        return [(j, self.runs.get(j.run_id) if j.run_id else None) for j in jobs]


def _run_of(state: WatchState, event: RunStarted | RunCompleted | RunFailed | MetricBatch) -> RunView:
    return state.runs.get(event.run_id) or RunView(event.run_id, event.job_id, event.runner_id, event.attempt)


def _merge_batch(run: RunView, batch: MetricBatch) -> RunView:
    devices = dict(run.devices)
    for sample in batch.samples:
        key = (sample.sampled_at, batch.seq)
        known = devices.get(sample.gpu_index)
        devices[sample.gpu_index] = known.merge(sample, key) if known else Reading(sample, key, sample, key)
    return replace(run, meter=run.meter or batch.meter, devices=devices)


def _progress_key(p: CampaignProgress) -> tuple[datetime, str]:
    return p.occurred_at, str(p.event_id)


def reduce(state: WatchState, event: AnyEvent) -> WatchState:
    """The state after `event`. Repeats and reorderings of the same events give the same state."""
    if getattr(event, "campaign_id", state.campaign_id) != state.campaign_id:
        return state
    match event:
        case CampaignSubmitted():
            return replace(state, name=event.name, job_count=max(state.job_count, event.job_count))
        case CampaignCancelled():
            return replace(state, cancelled=True)
        case CampaignProgress():
            cancelled = state.cancelled or event.status == "cancelled"
            if state.progress is not None and _progress_key(state.progress) >= _progress_key(event):
                return replace(state, cancelled=cancelled)
            return replace(state, progress=event, cancelled=cancelled)
        case JobStatusChanged():
            known = state.jobs.get(event.job_id)
            if known is not None and known.revision >= event.revision:
                return state
            view = JobView(
                event.job_id, event.status, event.revision, event.attempt,
                event.runner_id, event.run_id, event.reason,
            )  # fmt: skip
            return replace(state, jobs={**state.jobs, event.job_id: view})
        case RunStarted():
            run = replace(_run_of(state, event), meter=event.meter)
        case RunCompleted() | RunFailed():
            run = replace(_run_of(state, event), ended=True)
        case MetricBatch():
            run = _merge_batch(_run_of(state, event), event)
        case _:
            return state
    return replace(state, runs={**state.runs, event.run_id: run})


def reduce_all(state: WatchState, events: Iterable[AnyEvent]) -> WatchState:
    for event in events:
        state = reduce(state, event)
    return state


@dataclass(frozen=True)
class Counts:
    total: int
    queued: int
    running: int
    completed: int
    failed: int
    cancelled: int

    def of(self, status: JobStatus) -> int:
        value: int = getattr(self, status)
        return value

    @property
    def ended(self) -> int:
        return self.completed + self.failed + self.cancelled

    def line(self) -> str:
        return " ".join(f"{s}={self.of(s)}" for s in STATUSES) + f" total={self.total}"


def counts(state: WatchState) -> Counts:
    """Jobs per state from the job states; jobs not seen yet count as queued (as the scheduler does)."""
    by_status = {s: sum(1 for j in state.jobs.values() if j.status == s) for s in STATUSES}
    total = max(state.job_count, len(state.jobs))
    by_status["queued"] += total - len(state.jobs)
    return Counts(total=total, **by_status)


def _progress_counts(p: CampaignProgress) -> Counts:
    return Counts(p.total, p.queued, p.running, p.completed, p.failed, p.cancelled)


@dataclass(frozen=True)
class Outcome:
    status: str  # "finished" or "cancelled"
    counts: Counts

    @property
    def exit_code(self) -> int:
        """0 when every job completed, 1 when any failed or was cancelled."""
        return 0 if self.counts.completed == self.counts.total else 1

    def summary(self, campaign_id: UUID) -> str:
        c = self.counts
        return (
            f"campaign {campaign_id} {self.status}: {c.completed} completed, {c.failed} failed,"
            f" {c.cancelled} cancelled of {c.total} job(s)"
        )


def outcome(state: WatchState, settle: bool = False) -> Outcome | None:
    """The campaign's outcome once every job ended (by the job states, or by the scheduler's last
    progress when it says so); None while jobs remain. `settle` forces one from the job states
    (a cancelled campaign whose remaining jobs the scheduler has not ended yet)."""
    status = "cancelled" if state.cancelled else "finished"
    mine = counts(state)
    if mine.ended == mine.total or settle:
        return Outcome(status, mine)
    p = state.progress
    if p is not None and p.status in ("finished", "cancelled") and p.queued == p.running == 0:
        return Outcome(p.status, _progress_counts(p))
    return None
