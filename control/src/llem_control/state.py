"""Job state: a pure transition function over events, and a KV-backed store with compare-and-set.

States: queued -> running -> completed | failed | cancelled; a retryable failure goes back to queued
until `max_attempts`. Transitions are idempotent (replaying an event changes nothing) and ordered by
attempt (an event of an older attempt never overrides a newer one), so the tracker can follow the
events stream from any point after a restart. Kept in a NATS KV bucket: it lives beside the work
queue it describes, survives scheduler restarts, and compare-and-set makes concurrent writers safe.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from nats.js.errors import KeyWrongLastSequenceError, NotFoundError
from nats.js.kv import KeyValue
from pydantic import Field

from llem_control.errors import StateConflict
from llem_control.kvkeys import bucket_keys
from llem_schemas.base import Model, UtcDatetime
from llem_schemas.events import (
    AnyEvent,
    CampaignCancelled,
    JobQueued,
    JobStatus,
    JobStatusChanged,
    RunCompleted,
    RunFailed,
    RunStarted,
)

Status = JobStatus
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
    enqueued: bool = Field(
        default=True, description="False only while a submit has not yet had the work queue's PubAck."
    )

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    def status_event(self, revision: int) -> JobStatusChanged:
        """The public event for this state; its id is fixed by the revision, so republishing is a no-op."""
        return JobStatusChanged(
            event_id=uuid.uuid5(self.job_id, f"status:{revision}"),
            occurred_at=self.updated_at,
            job_id=self.job_id,
            campaign_id=self.campaign_id,
            pool=self.pool,
            status=self.status,
            attempt=self.attempt,
            runner_id=self.runner_id,
            run_id=self.run_id,
            reason=self.reason,
            revision=revision,
        )


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
    if state is None and isinstance(event, RunStarted):
        # The job was queued by a path the scheduler has not seen yet (its job.queued is lost or
        # still to come): the run carries the job, so the state starts here.
        state = JobState(
            job_id=event.job.job_id,
            campaign_id=event.job.campaign_id,
            pool=event.job.pool,
            status="queued",
            updated_at=event.occurred_at,
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
        "enqueued": True,  # a runner had it: it was on the queue
    }
    match event:
        case RunStarted():
            if state.status == "running" and state.attempt == event.attempt:
                return None
            update |= {"status": "running", "started_at": event.occurred_at}
        case RunCompleted():
            update |= {"status": "completed", "ended_at": event.occurred_at, "reason": None}
        case RunFailed():
            retry = event.retryable and event.attempt < max_attempts and event.failure_kind != "superseded"
            if event.failure_kind == "superseded":
                return None  # a void attempt: the newer one decides
            update |= {
                "status": "queued" if retry else "failed",
                "reason": event.reason,
                "ended_at": None if retry else event.occurred_at,
            }
    return state.model_copy(update=update)


def verdict(state: JobState | None, status: Status, reason: str, at: datetime) -> JobState | None:
    """The scheduler's own decision on an unfinished job (failed after MaxDeliver or with no runner
    alive; queued again when its runner vanished). Ended jobs stay as they are."""
    if state is None or state.terminal or (state.status == status and state.reason == reason):
        return None
    ended = at if status in TERMINAL else None
    return state.model_copy(update={"status": status, "reason": reason, "updated_at": at, "ended_at": ended})


Mutation = Callable[[JobState | None], JobState | None]


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

    async def mutate(self, job_id: UUID, change: Mutation) -> tuple[JobState | None, int, bool]:
        """Compare-and-set `change` on the job's state: (state, revision, whether it changed)."""
        for _ in range(20):
            state, revision = await self.get(job_id)
            new = change(state)
            if new is None:
                return state, revision, False
            payload = new.model_dump_json().encode()
            try:
                if revision:
                    revision = await self.kv.update(str(job_id), payload, last=revision)
                else:
                    revision = await self.kv.create(str(job_id), payload)
                return new, revision, True
            except KeyWrongLastSequenceError:
                continue  # someone else wrote first: read again
        raise StateConflict(f"job {job_id}: state kept changing under us")

    async def apply(self, job_id: UUID, event: AnyEvent) -> JobState | None:
        """Apply one event; returns the new state, or None when nothing changed. Safe to repeat."""
        state, _, changed = await self.mutate(job_id, lambda s: transition(s, event, self.max_attempts))
        return state if changed else None

    async def all(self) -> dict[UUID, tuple[JobState, int]]:
        """Every job's state and revision (read at start-up; the tracker keeps them current)."""
        keys = await bucket_keys(self.kv)
        found: dict[UUID, tuple[JobState, int]] = {}
        for start in range(0, len(keys), 256):
            entries = await asyncio.gather(*(self.get(UUID(k)) for k in keys[start : start + 256]))
            for state, revision in entries:
                if state is not None:
                    found[state.job_id] = (state, revision)
        return found
