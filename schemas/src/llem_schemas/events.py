"""Every event llem publishes. Discriminated by the literal `type` field."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, JsonValue, TypeAdapter

from llem_schemas.base import Event, Model, UtcDatetime
from llem_schemas.jobs import SUBJECT_TOKEN, JobSpec, PoolName
from llem_schemas.measurement import GpuInfo, HostFingerprint, MeterName, MetricSample, RunSummary

RunnerId = Annotated[str, Field(pattern=SUBJECT_TOKEN, description="Runner id, one NATS subject token.")]


class CampaignSubmitted(Event):
    type: Literal["campaign.submitted"] = "campaign.submitted"
    campaign_id: UUID
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    job_count: int = Field(ge=0)
    spec: dict[str, JsonValue] = Field(default_factory=dict, description="The campaign spec as submitted.")


class CampaignCancelled(Event):
    type: Literal["campaign.cancelled"] = "campaign.cancelled"
    campaign_id: UUID
    reason: str = ""


class JobQueued(Event):
    """A job placed on its pool's work queue (also mirrored on the events stream)."""

    type: Literal["job.queued"] = "job.queued"
    job: JobSpec


class JobCancelRequested(Event):
    """Sent by the scheduler on a runner's control subject (core NATS): stop this job if you run it."""

    type: Literal["job.cancel_requested"] = "job.cancel_requested"
    job_id: UUID
    campaign_id: UUID
    runner_id: RunnerId
    reason: str = ""


JobStatus = Literal["queued", "running", "completed", "failed", "cancelled"]
CampaignStatus = Literal["queued", "running", "finished", "cancelled"]


class JobStatusChanged(Event):
    """The scheduler's verdict on one job, published each time it changes (for live views and ingest)."""

    type: Literal["job.status"] = "job.status"
    job_id: UUID
    campaign_id: UUID
    pool: PoolName
    status: JobStatus
    attempt: int = Field(ge=0, description="Latest delivery attempt seen (0: never started).")
    runner_id: RunnerId | None = None
    run_id: UUID | None = None
    reason: str | None = Field(default=None, description="Why a job failed, was cancelled or requeued.")
    revision: int = Field(ge=1, description="Orders the changes of one job: a higher revision is newer.")


class CampaignCounts(Model):
    """A campaign's jobs per state, with an ETA: the body of `campaign.progress`, and what the API
    returns as a campaign's progress."""

    campaign_id: UUID
    status: CampaignStatus
    total: int = Field(ge=0)
    queued: int = Field(ge=0)
    running: int = Field(ge=0)
    completed: int = Field(ge=0)
    failed: int = Field(ge=0)
    cancelled: int = Field(ge=0)
    mean_job_duration_s: float | None = Field(
        default=None,
        ge=0,
        description="Mean wall time of the campaign's completed jobs; null before the first.",
    )
    eta_s: float | None = Field(
        default=None,
        ge=0,
        description="Remaining jobs x mean job duration / live runners of the campaign's pools; null when unknown.",
    )
    live_runners: int = Field(
        ge=0, description="Runners of the campaign's pools alive when this was computed."
    )


class CampaignProgress(Event, CampaignCounts):
    """Counts of a campaign's jobs per state, with an ETA; published when the counts change."""

    type: Literal["campaign.progress"] = "campaign.progress"


class _RunEvent(Event):
    run_id: UUID = Field(description="One execution attempt of a job.")
    job_id: UUID
    campaign_id: UUID
    runner_id: RunnerId
    attempt: int = Field(ge=1, description="Delivery attempt of the job that produced this run.")


class RunStarted(_RunEvent):
    type: Literal["run.started"] = "run.started"
    job: JobSpec
    fingerprint: HostFingerprint
    meter: MeterName


class MetricBatch(_RunEvent):
    """Many samples in one message: per-message overhead dominates at 10 Hz x 8 GPUs."""

    type: Literal["metric.batch"] = "metric.batch"
    seq: int = Field(ge=0, description="Batch sequence number within the run, from 0.")
    meter: MeterName
    sampling_period_ms: int | None = Field(default=None, ge=1)
    samples: list[MetricSample] = Field(min_length=1, max_length=10_000)


class RequestRecord(Model):
    """One request of a measured repetition, as the backend timed it from its own token stream."""

    repetition: int = Field(ge=0)
    index: int = Field(ge=0, description="Order of the request within its repetition, from 0.")
    started_at: UtcDatetime
    prompt_tokens: int | None = Field(
        default=None, ge=0, description="Null when the backend does not report it."
    )
    output_tokens: int = Field(ge=0)
    ttft_ms: float | None = Field(default=None, ge=0)
    e2e_ms: float = Field(ge=0)
    itl_count: int = Field(default=0, ge=0, description="Inter-token gaps measured.")
    itl_mean_ms: float | None = Field(default=None, ge=0)
    itl_p50_ms: float | None = Field(default=None, ge=0)
    itl_p99_ms: float | None = Field(default=None, ge=0)
    energy_j: float | None = Field(
        default=None,
        ge=0,
        description="Energy attributed to this request: each sampling interval's energy split among the"
        " requests in flight. Null without an energy meter or for a failed request.",
    )
    error: str | None = None


class RequestBatch(_RunEvent):
    """Per-request records of a run, published before its run.completed (many per message)."""

    type: Literal["run.requests"] = "run.requests"
    seq: int = Field(ge=0, description="Batch sequence number within the run, from 0.")
    requests: list[RequestRecord] = Field(min_length=1, max_length=5_000)


class RunCompleted(_RunEvent):
    type: Literal["run.completed"] = "run.completed"
    summary: RunSummary


FailureKind = Literal[
    "superseded",
    "cancelled",
    "shutting_down",
    "backend_error",
    "backend_unavailable",
    "meter_error",
    "job_rejected",
    "unexpected",
]
"""Why a run failed, as a contract: `superseded` (a newer attempt owns the job; this run is void),
`cancelled` (its campaign was cancelled), `shutting_down` (the runner stopped; the job is queued
again), `backend_error` (the backend failed to load or answer), `backend_unavailable` (a package or
hardware is missing), `meter_error`, `job_rejected` (the job cannot run as specified), `unexpected` (a bug: see the runner's
log)."""


class RunFailed(_RunEvent):
    type: Literal["run.failed"] = "run.failed"
    reason: str = Field(description="What went wrong, for a person.")
    failure_kind: FailureKind = Field(description="Why, as one of a fixed set the scheduler branches on.")
    error_type: str = Field(
        description="The error's class in the producer, for instance 'BackendError' (diagnostics only)."
    )
    retryable: bool = Field(description="True when another attempt may succeed (transient failure).")


class RunnerHeartbeat(Event):
    type: Literal["runner.heartbeat"] = "runner.heartbeat"
    runner_id: RunnerId
    hostname: str
    pools: list[PoolName] = Field(min_length=1)
    started_at: UtcDatetime
    heartbeat_interval_s: float = Field(gt=0)
    current_job_id: UUID | None = None
    current_run_id: UUID | None = None
    gpus: list[GpuInfo] = Field(default_factory=list)
    llem_version: str


AnyEvent = Annotated[
    CampaignSubmitted
    | CampaignCancelled
    | JobQueued
    | JobCancelRequested
    | JobStatusChanged
    | CampaignProgress
    | RunStarted
    | MetricBatch
    | RequestBatch
    | RunCompleted
    | RunFailed
    | RunnerHeartbeat,
    Field(discriminator="type"),
]

EVENT_TYPES: tuple[type[Event], ...] = (
    CampaignSubmitted,
    CampaignCancelled,
    JobQueued,
    JobCancelRequested,
    JobStatusChanged,
    CampaignProgress,
    RunStarted,
    MetricBatch,
    RequestBatch,
    RunCompleted,
    RunFailed,
    RunnerHeartbeat,
)

_ADAPTER: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)


def parse_event(payload: bytes | str) -> AnyEvent:
    """Validate a JSON payload into its event model. Raises pydantic.ValidationError."""
    return _ADAPTER.validate_json(payload)


def encode_event(event: Event) -> bytes:
    return event.model_dump_json().encode()


def event_type_name(model: type[Event]) -> str:
    default = model.model_fields["type"].default
    assert isinstance(default, str)
    return default
