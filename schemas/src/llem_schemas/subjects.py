"""The one place that names NATS subjects, streams and consumers.

Services and outside subscribers build subjects with these functions; the stream
definitions are applied by one bootstrap step (`llem-scheduler bootstrap`), never
redeclared by each service. A `prefix` namespaces a whole deployment (and each test).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel

from llem_schemas.base import Event
from llem_schemas.events import (
    CampaignCancelled,
    CampaignProgress,
    CampaignSubmitted,
    JobCancelRequested,
    JobQueued,
    JobStatusChanged,
    MetricBatch,
    RequestBatch,
    RunCompleted,
    RunFailed,
    RunnerHeartbeat,
    RunStarted,
)

_PREFIX = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


@dataclass(frozen=True)
class StreamSpec:
    """A JetStream stream, in JetStream's own terms (durations in seconds)."""

    name: str
    subjects: tuple[str, ...]
    retention: Literal["limits", "workqueue"]
    discard: Literal["old", "new"]
    duplicate_window_s: float
    max_age_s: float
    max_bytes: int
    max_msg_size: int
    description: str
    replicas: int = 1


@dataclass(frozen=True)
class ConsumerSpec:
    """A durable pull consumer on one stream."""

    stream: str
    durable_name: str
    filter_subject: str
    ack_wait_s: float
    max_deliver: int
    max_ack_pending: int
    description: str
    more_subjects: tuple[str, ...] = ()

    @property
    def filter_subjects(self) -> tuple[str, ...]:
        return (self.filter_subject, *self.more_subjects)


@dataclass(frozen=True)
class KvSpec:
    """A JetStream key-value bucket whose keys expire `ttl_s` after their last write."""

    bucket: str
    ttl_s: float
    description: str
    replicas: int = 1
    #: reads served by any replica (fast, possibly a moment stale on a cluster); off: leader reads
    direct: bool = False


#: What each `{name}` in a channel's address stands for.
SUBJECT_PARAMETERS = {
    "pool": "Runner pool name.",
    "campaign_id": "Campaign id (UUID).",
    "job_id": "Job id (UUID).",
    "run_id": "Run id (UUID), one execution attempt.",
    "runner_id": "Runner id.",
}


@dataclass(frozen=True)
class ChannelSpec:
    """A subject llem publishes on, as a template (`{name}` per parameter), and what travels on it."""

    key: str
    address: str
    messages: tuple[type[Event], ...]
    stream: str | None  # None: core NATS, never stored
    description: str

    @property
    def parameters(self) -> dict[str, str]:
        """The address's parameters, in order, each with its description."""
        return {name: SUBJECT_PARAMETERS[name] for name in re.findall(r"\{(\w+)\}", self.address)}


#: Each event type's channel (key, description), in the documents' order; `subject_for` gives
#: the address, so a new event type needs a line here and a case there.
_CHANNELS: dict[type[Event], tuple[str, str]] = {
    JobQueued: ("jobQueued", "Copy of every queued job, for subscribers."),
    JobStatusChanged: (
        "jobStatus",
        "The scheduler's view of a job, each time it changes (revision orders them).",
    ),
    CampaignProgress: (
        "campaignProgress",
        "Counts of a campaign's jobs per state and an ETA, when the counts change.",
    ),
    CampaignSubmitted: ("campaignSubmitted", "A campaign was submitted."),
    CampaignCancelled: ("campaignCancelled", "A campaign was cancelled."),
    RunStarted: ("runStarted", "A runner started a run, with its host fingerprint."),
    RunCompleted: ("runCompleted", "A run finished, with its summary and quality flags."),
    RunFailed: ("runFailed", "A run failed; retryable says whether another attempt may succeed."),
    MetricBatch: ("metrics", "Metric batches streamed while a run goes on."),
    RequestBatch: (
        "runRequests",
        "Per-request records of a run (latencies, tokens, attributed energy), before its completion.",
    ),
    RunnerHeartbeat: ("runnerHeartbeat", "Periodic runner liveness."),
    JobCancelRequested: ("runnerControl", "Commands to one runner, from the scheduler."),
}

_WORK_QUEUE = (
    "Work queue: each pool's runners pull jobs here (one durable consumer per pool, on"
    " all campaigns); one subject per pool and campaign, so a cancel purges exactly its jobs."
)


def _placeholder_ids(model: type[BaseModel]) -> dict[str, Any]:
    """`{name}` for every `*_id` field, nested models likewise (unvalidated, for `model_construct`)."""
    fields: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            fields[name] = field.annotation.model_construct(**_placeholder_ids(field.annotation))
        elif name.endswith("_id"):
            fields[name] = f"{{{name}}}"
    return fields


def subject_runner_id(subject: str) -> str | None:
    """The runner a runner-published subject names (`<prefix>.events.run.<runner>...`,
    `<prefix>.metrics.<runner>...`, `<prefix>.events.runner.<runner>.heartbeat`); None for any other."""
    tokens = subject.split(".")
    if len(tokens) >= 4 and tokens[1] == "events" and tokens[2] in ("run", "runner"):
        return tokens[3]
    if len(tokens) >= 3 and tokens[1] == "metrics":
        return tokens[2]
    return None


def _matches(pattern: str, subject: str) -> bool:
    """Whether a subject filter (`*` one token, `>` the rest) takes `subject`."""
    p, s = pattern.split("."), subject.split(".")
    for i, part in enumerate(p):
        if part == ">":
            return len(s) > i
        if i >= len(s) or part not in ("*", s[i]):
            return False
    return len(p) == len(s)


@dataclass(frozen=True)
class Layout:
    """Subjects, streams and consumers of one llem deployment."""

    prefix: str = "llem"
    job_ack_wait_s: float = 60.0
    job_max_deliver: int = 5
    runner_ttl_s: float = 20.0
    job_dedupe_window_s: float = 3600.0
    ingest_ack_wait_s: float = 30.0
    #: copies of every stream and bucket: 1 on one server, 3 on a three-node cluster
    replicas: int = 1

    def __post_init__(self) -> None:
        if not _PREFIX.match(self.prefix):
            raise ValueError(f"prefix {self.prefix!r} must match {_PREFIX.pattern}")
        if self.replicas not in (1, 2, 3, 4, 5):
            raise ValueError(f"replicas must be 1 to 5 (JetStream's limit), not {self.replicas}")

    # -- stream names ------------------------------------------------------------------
    @property
    def _stream_base(self) -> str:
        return self.prefix.upper().replace("-", "_")

    @property
    def jobs_stream(self) -> str:
        return f"{self._stream_base}_JOBS"

    @property
    def events_stream(self) -> str:
        return f"{self._stream_base}_EVENTS"

    @property
    def metrics_stream(self) -> str:
        return f"{self._stream_base}_METRICS"

    @property
    def advisories_stream(self) -> str:
        return f"{self._stream_base}_ADVISORIES"

    @property
    def max_deliveries_advisory(self) -> str:
        """What the server publishes when a job exhausts MaxDeliver on any pool consumer."""
        return f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{self.jobs_stream}.*"

    # -- subjects ----------------------------------------------------------------------
    def job_subject(self, pool: str, campaign_id: UUID | str) -> str:
        """A campaign's jobs for one pool: one subject each, so cancelling purges exactly them."""
        return f"{self.prefix}.jobs.{pool}.{campaign_id}"

    def pool_jobs(self, pool: str) -> str:
        return f"{self.prefix}.jobs.{pool}.*"

    def job_event_subject(self, campaign_id: UUID | str, job_id: UUID | str, what: str = "queued") -> str:
        return f"{self.prefix}.events.job.{campaign_id}.{job_id}.{what}"

    def campaign_subject(self, campaign_id: UUID | str, what: str) -> str:
        return f"{self.prefix}.events.campaign.{campaign_id}.{what}"

    def run_subject(self, runner_id: str, campaign_id: UUID | str, run_id: UUID | str, what: str) -> str:
        """A run's lifecycle. The runner's id comes first so that a runner's credentials can allow
        exactly its own subjects (`runner_publish_subjects`), and ingest checks the payload agrees."""
        return f"{self.prefix}.events.run.{runner_id}.{campaign_id}.{run_id}.{what}"

    def metrics_subject(self, runner_id: str, campaign_id: UUID | str, run_id: UUID | str) -> str:
        return f"{self.prefix}.metrics.{runner_id}.{campaign_id}.{run_id}"

    def heartbeat_subject(self, runner_id: str) -> str:
        return f"{self.prefix}.events.runner.{runner_id}.heartbeat"

    def control_subject(self, runner_id: str) -> str:
        """Core NATS (not persisted): commands to one runner, for instance stop a run."""
        return f"{self.prefix}.control.runner.{runner_id}"

    # -- what watchers subscribe to (wildcards over the subjects above) ----------------
    def run_metrics_subjects(self, run_id: UUID | str) -> tuple[str, ...]:
        """One run's metric batches, whatever its campaign (not its request batches)."""
        return (self.metrics_subject("*", "*", run_id),)

    def campaign_metrics_subjects(self, campaign_id: UUID | str) -> tuple[str, ...]:
        """The metric batches of every run of one campaign (not their request batches)."""
        return (self.metrics_subject("*", campaign_id, "*"),)

    def campaign_live_subjects(self, campaign_id: UUID | str) -> tuple[str, ...]:
        """One campaign as its watchers follow it: its own events, its jobs' status changes (not
        their queueing) and its runs' lifecycle."""
        return (
            f"{self.prefix}.events.campaign.{campaign_id}.>",
            self.job_event_subject(campaign_id, "*", "status"),
            f"{self.prefix}.events.run.*.{campaign_id}.>",
        )

    def runner_publish_subjects(self, runner_id: str) -> tuple[str, ...]:
        """Everything one runner publishes: its runs' lifecycle, metric and request batches, and its
        heartbeat. A runner's NATS credentials allow exactly these (`llem_control.natsauth`)."""
        return (
            f"{self.prefix}.events.run.{runner_id}.>",
            f"{self.prefix}.metrics.{runner_id}.>",
            self.heartbeat_subject(runner_id),
        )

    def fence_key(self, job_id: UUID | str, runner_id: str) -> str:
        return f"{job_id}.{runner_id}"

    @property
    def fleet_subjects(self) -> tuple[str, ...]:
        """Every runner's heartbeats."""
        return (self.heartbeat_subject("*"),)

    @property
    def all_events(self) -> str:
        return f"{self.prefix}.events.>"

    @property
    def all_metrics(self) -> str:
        return f"{self.prefix}.metrics.>"

    def subject_for(self, event: Event) -> str:
        """The subject an event is published on (jobs go to `job_subject` as well)."""
        match event:
            case JobQueued(job=job):
                return self.job_event_subject(job.campaign_id, job.job_id)
            case CampaignSubmitted(campaign_id=cid):
                return self.campaign_subject(cid, "submitted")
            case CampaignCancelled(campaign_id=cid):
                return self.campaign_subject(cid, "cancelled")
            case CampaignProgress(campaign_id=cid):
                return self.campaign_subject(cid, "progress")
            case JobStatusChanged():
                return self.job_event_subject(event.campaign_id, event.job_id, "status")
            case RunStarted() | RunCompleted() | RunFailed():
                what = event.type.removeprefix("run.")
                return self.run_subject(event.runner_id, event.campaign_id, event.run_id, what)
            case MetricBatch():
                return self.metrics_subject(event.runner_id, event.campaign_id, event.run_id)
            case RequestBatch():
                return f"{self.metrics_subject(event.runner_id, event.campaign_id, event.run_id)}.requests"
            case RunnerHeartbeat(runner_id=rid):
                return self.heartbeat_subject(rid)
            case JobCancelRequested(runner_id=rid):
                return self.control_subject(rid)
        raise TypeError(f"no subject for event type {type(event).__name__}")

    def stream_for(self, event: Event) -> str:
        """The stream that stores `subject_for(event)` (publishers name it to catch mistakes)."""
        if isinstance(event, MetricBatch | RequestBatch):
            return self.metrics_stream
        return self.events_stream

    def channels(self) -> tuple[ChannelSpec, ...]:
        """Every subject llem publishes on, as a template, with its event types and stream (the
        AsyncAPI document renders these). Addresses are `subject_for` of placeholder events."""
        work_queue = self.job_subject("{pool}", "{campaign_id}")
        channels = [ChannelSpec("jobs", work_queue, (JobQueued,), self._stored_in(work_queue), _WORK_QUEUE)]
        for model, (key, description) in _CHANNELS.items():
            address = self.subject_for(model.model_construct(**_placeholder_ids(model)))
            channels.append(ChannelSpec(key, address, (model,), self._stored_in(address), description))
        return tuple(channels)

    def _stored_in(self, subject: str) -> str | None:
        """The stream that takes `subject`; None when none does (core NATS)."""
        return next((s.name for s in self.streams() if any(_matches(p, subject) for p in s.subjects)), None)

    # -- streams and consumers ---------------------------------------------------------
    def streams(self) -> tuple[StreamSpec, ...]:
        return (
            StreamSpec(
                name=self.jobs_stream,
                subjects=(f"{self.prefix}.jobs.>",),
                retention="workqueue",
                discard="new",
                duplicate_window_s=self.job_dedupe_window_s,
                max_age_s=0,
                max_bytes=-1,
                max_msg_size=1024 * 1024,
                replicas=self.replicas,
                description="Work queue of jobs, one subject per runner pool.",
            ),
            StreamSpec(
                name=self.events_stream,
                subjects=(self.all_events,),
                retention="limits",
                discard="new",
                duplicate_window_s=600,
                max_age_s=30 * 86400,
                max_bytes=8 * 1024**3,
                max_msg_size=1024 * 1024,
                replicas=self.replicas,
                description="Lifecycle events: campaigns, jobs, runs, runner heartbeats.",
            ),
            StreamSpec(
                name=self.metrics_stream,
                subjects=(self.all_metrics,),
                retention="limits",
                discard="new",
                duplicate_window_s=600,
                max_age_s=7 * 86400,
                max_bytes=32 * 1024**3,
                max_msg_size=4 * 1024 * 1024,
                replicas=self.replicas,
                description="Metric batches (power, energy, clocks, token counters) while runs go on.",
            ),
            StreamSpec(
                name=self.advisories_stream,
                subjects=(self.max_deliveries_advisory,),
                retention="limits",
                discard="old",
                duplicate_window_s=120,
                max_age_s=7 * 86400,
                max_bytes=64 * 1024**2,
                max_msg_size=64 * 1024,
                replicas=self.replicas,
                description="Server advisories the scheduler must not miss while it is down (MaxDeliver).",
            ),
        )

    @property
    def runners_kv(self) -> KvSpec:
        """Live fleet: one key per runner, refreshed by its heartbeat, gone `ttl_s` after the last one."""
        return KvSpec(
            replicas=self.replicas,
            bucket=f"{self._stream_base}_runners".lower(),
            ttl_s=self.runner_ttl_s,
            description="Runner liveness: runner_id -> last heartbeat (JSON); keys expire when a runner stops.",
        )

    @property
    def fencing_kv(self) -> KvSpec:
        """`<job_id>.<runner_id>` -> the run and attempt that runner holds; the newest attempt owns
        the job. Each runner writes only keys with its own id (`runner_fence_keys`)."""
        return KvSpec(
            replicas=self.replicas,
            bucket=f"{self._stream_base}_job_owner".lower(),
            ttl_s=7 * 86400,
            description="Fencing: job_id.runner_id -> the run (attempt) that runner holds; the newest attempt owns the job.",
            direct=True,  # a job's keys are read in one batched direct get (the runner reads its own write)
        )

    @property
    def job_state_kv(self) -> KvSpec:
        """job_id -> the scheduler's view of the job (status, attempt, runner); kept without expiry."""
        return KvSpec(
            replicas=self.replicas,
            bucket=f"{self._stream_base}_job_state".lower(),
            ttl_s=0,
            description="Scheduler job state: job_id -> JSON state, updated by compare-and-set.",
        )

    @property
    def campaigns_kv(self) -> KvSpec:
        """campaign_id -> the scheduler's campaign record (pools, job count, cancelled or not)."""
        return KvSpec(
            replicas=self.replicas,
            bucket=f"{self._stream_base}_campaigns".lower(),
            ttl_s=0,
            description="Scheduler campaign records: campaign_id -> JSON, updated by compare-and-set.",
        )

    def kv_buckets(self) -> tuple[KvSpec, ...]:
        """Every KV bucket of the deployment (bootstrap declares them; teardown deletes them)."""
        return (self.runners_kv, self.fencing_kv, self.job_state_kv, self.campaigns_kv)

    def scheduler_consumers(self) -> tuple[ConsumerSpec, ...]:
        """What the scheduler follows: lifecycle events that change job state, and MaxDeliver advisories."""
        p = self.prefix
        return (
            ConsumerSpec(
                stream=self.events_stream,
                durable_name="scheduler-events",
                filter_subject=f"{p}.events.job.*.*.queued",
                more_subjects=(
                    f"{p}.events.run.>",
                    f"{p}.events.campaign.*.submitted",
                    f"{p}.events.campaign.*.cancelled",
                ),
                ack_wait_s=30,
                max_deliver=-1,
                max_ack_pending=1000,
                description="Scheduler: job state from job, run and campaign events.",
            ),
            ConsumerSpec(
                stream=self.advisories_stream,
                durable_name="scheduler-advisories",
                filter_subject=self.max_deliveries_advisory,
                ack_wait_s=30,
                max_deliver=-1,
                max_ack_pending=100,
                description="Scheduler: jobs whose deliveries ran out end failed.",
            ),
        )

    def pool_consumer(self, pool: str) -> ConsumerSpec:
        """The one durable consumer of a pool's job subject, shared by that pool's runners."""
        return ConsumerSpec(
            stream=self.jobs_stream,
            durable_name=f"pool-{pool}",
            filter_subject=self.pool_jobs(pool),
            ack_wait_s=self.job_ack_wait_s,
            max_deliver=self.job_max_deliver,
            max_ack_pending=1000,
            description=f"Runners of pool {pool}; a job stays unacked while it runs (in-progress acks).",
        )

    def ingest_consumers(self) -> tuple[ConsumerSpec, ...]:
        return (
            ConsumerSpec(
                stream=self.events_stream,
                durable_name="ingest-events",
                filter_subject=self.all_events,
                ack_wait_s=self.ingest_ack_wait_s,
                max_deliver=-1,
                max_ack_pending=20_000,
                description="Ingest of lifecycle events into the database.",
            ),
            ConsumerSpec(
                stream=self.metrics_stream,
                durable_name="ingest-metrics",
                filter_subject=self.all_metrics,
                ack_wait_s=self.ingest_ack_wait_s,
                max_deliver=-1,
                max_ack_pending=20_000,
                description="Ingest of metric batches into the samples hypertable.",
            ),
        )
