"""HTTP response shapes, kept apart from database rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec


class RunOut(msgspec.Struct, kw_only=True):
    run_id: UUID
    job_id: UUID
    campaign_id: UUID
    runner_id: str
    attempt: int
    status: str
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
    quality_flags: list[dict[str, Any]]
    failure_reason: str | None


class RunPage(msgspec.Struct, kw_only=True):
    items: list[RunOut]
    total: int
    limit: int
    offset: int


class Health(msgspec.Struct, kw_only=True):
    status: str
    checks: dict[str, str] = msgspec.field(default_factory=dict)


class RunDetail(msgspec.Struct, kw_only=True):
    run: RunOut
    job: dict[str, Any] | None
    fingerprint: dict[str, Any] | None
    summary: dict[str, Any] | None
    repetitions: list[dict[str, Any]]


class SeriesPoint(msgspec.Struct, kw_only=True):
    bucket: datetime
    gpu_index: int | None
    power_w: float | None
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


class CampaignOut(msgspec.Struct, kw_only=True):
    campaign_id: UUID
    name: str
    description: str
    job_count: int
    status: str
    submitted_at: datetime
    cancelled_at: datetime | None
    progress: dict[str, Any] | None


class JobOut(msgspec.Struct, kw_only=True):
    job_id: UUID
    pool: str
    repetition: int
    status: str
    attempt: int
    runner_id: str | None
    run_id: UUID | None
    status_reason: str | None


class CampaignDetail(msgspec.Struct, kw_only=True):
    campaign: CampaignOut
    jobs: list[JobOut]


class RunnerOut(msgspec.Struct, kw_only=True):
    runner_id: str
    hostname: str
    pools: list[str]
    started_at: datetime
    last_seen_at: datetime
    alive: bool
    current_job_id: UUID | None
    current_run_id: UUID | None
    gpus: list[dict[str, Any]]
    llem_version: str


class SubmittedOut(msgspec.Struct, kw_only=True):
    campaign_id: UUID
    queued: int
    already: int
    dropped: list[dict[str, Any]]


class CancelIn(msgspec.Struct, kw_only=True):
    reason: str = ""
