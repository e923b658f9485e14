"""HTTP response shapes, kept apart from database rows.

Documents the database keeps as jsonb (a run's job, fingerprint and summary, a campaign's progress,
a runner's GPUs) are validated into the event contract's own pydantic models on the way out, so the
OpenAPI document (and the web app's generated client) types them end to end from one definition.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from llem_schemas.base import Model, UtcDatetime
from llem_schemas.events import CampaignCounts, CampaignStatus, JobStatus
from llem_schemas.jobs import BackendConfig, JobSpec, MeasurementProtocol, Workload
from llem_schemas.measurement import GpuInfo, HostFingerprint, QualityFlag, RepetitionResult, RunSummary

RunStatus = Literal["running", "completed", "failed"]


class Problem(msgspec.Struct, kw_only=True):
    """An RFC 9457 problem detail: every error the API returns (`application/problem+json`)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str


class RunOut(msgspec.Struct, kw_only=True):
    run_id: UUID
    job_id: UUID
    campaign_id: UUID
    runner_id: str
    attempt: int
    status: RunStatus
    superseded: bool
    started_at: datetime | None
    ended_at: datetime | None
    backend: str | None
    model: str | None
    meter: str | None
    prompt_tokens: int | None
    output_tokens: int | None
    duration_s: float | None
    output_tokens_per_s: float | None
    energy_j: float | None
    energy_per_output_token_j: float | None
    quality_flags: list[QualityFlag]
    failure_reason: str | None


class RunPage(msgspec.Struct, kw_only=True):
    items: list[RunOut]
    total: int
    limit: int
    offset: int


class Health(msgspec.Struct, kw_only=True):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = msgspec.field(default_factory=dict)


class RunDetail(msgspec.Struct, kw_only=True):
    """A run with its job (backend, workload, protocol), host fingerprint and summary. `job` and
    `fingerprint` come from `run.started`, `summary` from `run.completed`: null until they arrive."""

    run: RunOut
    job: JobSpec | None
    fingerprint: HostFingerprint | None
    summary: RunSummary | None
    repetitions: list[RepetitionResult]


class SeriesPoint(msgspec.Struct, kw_only=True):
    bucket: datetime
    gpu_index: int | None
    power_w: float | None
    power_max_w: float | None
    energy_counter_j: float | None
    temperature_c: float | None
    sm_clock_mhz: float | None
    memory_clock_mhz: float | None
    gpu_utilization_pct: float | None
    samples: int


class TimeSeries(msgspec.Struct, kw_only=True):
    run_id: UUID
    bucket_s: float
    points: list[SeriesPoint]


class RequestOut(msgspec.Struct, kw_only=True):
    repetition: int
    request_index: int
    started_at: datetime
    prompt_tokens: int | None
    output_tokens: int
    ttft_ms: float | None
    e2e_ms: float
    itl_count: int
    itl_mean_ms: float | None
    itl_p50_ms: float | None
    itl_p99_ms: float | None
    energy_j: float | None
    error: str | None


class RequestPage(msgspec.Struct, kw_only=True):
    run_id: UUID
    items: list[RequestOut]


class CampaignProgressOut(CampaignCounts):
    """The latest `campaign.progress` of a campaign, and when the scheduler computed it."""

    occurred_at: UtcDatetime


class CampaignOut(msgspec.Struct, kw_only=True):
    campaign_id: UUID
    name: str
    description: str
    job_count: int
    status: CampaignStatus
    submitted_at: datetime
    cancelled_at: datetime | None
    progress: CampaignProgressOut | None


class CampaignPage(msgspec.Struct, kw_only=True):
    items: list[CampaignOut]
    total: int
    limit: int
    offset: int


class JobOut(msgspec.Struct, kw_only=True):
    """A job's latest state. `revision` orders its states (the scheduler's, as in `job.status`
    events); `updated_at` is when it last changed; `job` is null while only a status is known."""

    job_id: UUID
    pool: str
    repetition: int
    status: JobStatus
    attempt: int
    runner_id: str | None
    run_id: UUID | None
    status_reason: str | None
    revision: int
    updated_at: datetime | None
    job: JobSpec | None


class CampaignDetail(msgspec.Struct, kw_only=True):
    campaign: CampaignOut
    jobs: list[JobOut]


class RunnerOut(msgspec.Struct, kw_only=True):
    """A runner as last seen. It is gone once `last_seen_at + heartbeat_ttl_s` has passed (the
    deployment's runner TTL: the scheduler then treats its jobs as lost)."""

    runner_id: str
    hostname: str
    pools: list[str]
    started_at: datetime
    last_seen_at: datetime
    alive: bool
    current_job_id: UUID | None
    current_run_id: UUID | None
    gpus: list[GpuInfo]
    llem_version: str
    heartbeat_ttl_s: float


class DroppedOut(msgspec.Struct, kw_only=True):
    """A combination of the campaign's grid that cannot run, and why."""

    config: dict[str, Any]
    reason: str


class DroppedNotice(msgspec.Struct, kw_only=True):
    """The `data` of a live stream's `dropped` message: this client was too slow and lost its
    oldest messages, this many since the last notice (it may refetch what it shows)."""

    dropped: Annotated[int, msgspec.Meta(ge=1)]


class SubmittedOut(msgspec.Struct, kw_only=True):
    campaign_id: UUID
    queued: int
    already: int
    dropped: list[DroppedOut]


class PreviewConfiguration(Model):
    """One configuration of the expanded grid and how many jobs run it (its repetitions, or one
    job running them all back to back when the spec pins repetitions). A pydantic model, not a
    Struct: msgspec cannot describe the backend's discriminated union of pydantic models."""

    config_id: UUID
    pool: str
    model_name: str | None
    backend: BackendConfig
    workload: Workload
    protocol: MeasurementProtocol
    jobs: int


class CampaignPreview(msgspec.Struct, kw_only=True):
    """What a submit of this spec would queue, computed by the scheduler's own code; nothing sent."""

    campaign_id: UUID
    name: str
    job_count: int
    configurations: list[PreviewConfiguration]
    dropped: list[DroppedOut]


class CancelIn(msgspec.Struct, kw_only=True):
    reason: str = msgspec.field(default="")


class CancelledOut(msgspec.Struct, kw_only=True):
    campaign_id: UUID
    status: Literal["cancelled"]
