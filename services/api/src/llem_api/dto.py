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
