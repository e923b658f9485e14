"""Job state: a pure transition function over events, and a KV-backed store with compare-and-set.

States: queued -> running -> completed | failed | cancelled; a retryable failure goes back to queued
until `max_attempts`. Transitions are idempotent (replaying an event changes nothing) and ordered by
attempt (an event of an older attempt never overrides a newer one), so the tracker can follow the
events stream from any point after a restart. Kept in a NATS KV bucket: it lives beside the work
queue it describes, survives scheduler restarts, and compare-and-set makes concurrent writers safe.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Literal
from uuid import UUID

from nats.js.errors import KeyWrongLastSequenceError, NotFoundError
from nats.js.kv import KeyValue
from pydantic import Field

from llem_schemas.base import Model, UtcDatetime
from llem_schemas.events import AnyEvent, CampaignCancelled, JobQueued, RunCompleted, RunFailed, RunStarted

Status = Literal["queued", "running", "completed", "failed", "cancelled"]
TERMINAL: frozenset[str] = frozenset({"completed", "failed", "cancelled"})


class JobState(Model):
    job_id: UUID
    campaign_id: UUID
    pool: str
    status: Status
    attempt: int = Field(default=0, ge=0, description="Latest attempt seen (0: not started).")
    runner_id: str | None = None
    run_id: UUID | None = None
    updated_at: UtcDatetime
    started_at: datetime | None = None
    ended_at: datetime | None = None
    reason: str | None = None


def transition(state: JobState | None, event: AnyEvent, max_attempts: int) -> JobState | None:
    """The new state after `event`, or None when the event changes nothing."""
    match event:
        case JobQueued(job=job):
            if state is not None:
                return None  # already known: a resubmit changes nothing
            return JobState(
                job_id=job.job_id,
                campaign_id=job.campaign_id,
                pool=job.pool,
                status="queued",
                updated_at=event.occurred_at,
            )
        case CampaignCancelled():
            if state is None or state.status in TERMINAL:
                return None
            return state.model_copy(
                update={
                    "status": "cancelled",
                    "updated_at": event.occurred_at,
                    "reason": event.reason or "campaign cancelled",
                }
            )
    if state is None or not isinstance(event, RunStarted | RunCompleted | RunFailed):
        return None
    if event.attempt < state.attempt or state.status in TERMINAL:
        return None  # an older attempt, or the job already ended
    update: dict[str, object] = {
        "attempt": event.attempt,
        "runner_id": event.runner_id,
        "run_id": event.run_id,
        "updated_at": event.occurred_at,
    }
    match event:
        case RunStarted():
            if state.status == "running" and state.attempt == event.attempt:
                return None
            update |= {"status": "running", "started_at": event.occurred_at}
        case RunCompleted():
            update |= {"status": "completed", "ended_at": event.occurred_at, "reason": None}
        case RunFailed():
            retry = event.retryable and event.attempt < max_attempts and event.error_type != "Superseded"
            if event.error_type == "Superseded":
                return None  # a void attempt: the newer one decides
            update |= {
                "status": "queued" if retry else "failed",
                "reason": event.reason,
                "ended_at": None if retry else event.occurred_at,
            }
    return state.model_copy(update=update)


class StateStore:
    """Job states in a KV bucket, one key per job, updated by compare-and-set."""

    def __init__(self, kv: KeyValue, max_attempts: int) -> None:
        self.kv, self.max_attempts = kv, max_attempts

    async def get(self, job_id: UUID) -> tuple[JobState | None, int]:
        try:
            entry = await self.kv.get(str(job_id))
        except NotFoundError:
            return None, 0
        return JobState.model_validate_json(entry.value or b"{}"), entry.revision or 0

    async def apply(self, job_id: UUID, event: AnyEvent) -> JobState | None:
        """Apply one event; returns the new state, or None when nothing changed. Safe to repeat."""
        for _ in range(10):
            state, revision = await self.get(job_id)
            new = transition(state, event, self.max_attempts)
            if new is None:
                return None
            payload = new.model_dump_json().encode()
            try:
                if revision:
                    await self.kv.update(str(job_id), payload, last=revision)
                else:
                    await self.kv.create(str(job_id), payload)
                return new
            except KeyWrongLastSequenceError:
                continue  # someone else wrote first: read again
        raise RuntimeError(f"job {job_id}: state kept changing under us")

    async def all(self) -> list[JobState]:
        try:
            keys = await self.kv.keys()
        except NotFoundError:
            return []
        states = []
        for key in keys:
            entry = await self.kv.get(key)
            states.append(JobState.model_validate(json.loads(entry.value or b"{}")))
        return states
