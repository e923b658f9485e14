"""One writer per event type: the rows an event becomes, idempotently. Callers own the transaction.

`WRITERS` is the table `store.write_events` dispatches through, keyed by event class; an event type
without a writer (`job.cancel_requested`, the scheduler's business) stores nothing. Metric batches
are written by `store`, which batches their samples.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from llem_ingest.runs import write_run_completed, write_run_failed, write_run_started
from llem_schemas.base import Event
from llem_schemas.events import (
    CampaignCancelled,
    CampaignProgress,
    CampaignSubmitted,
    JobQueued,
    JobStatusChanged,
    RequestBatch,
    RequestRecord,
    RunCompleted,
    RunFailed,
    RunnerHeartbeat,
    RunStarted,
)

E = TypeVar("E", bound=Event)
Writer = Callable[[AsyncConnection, Any], Awaitable[None]]

_REQUEST_INSERT = (
    "INSERT INTO request_samples (started_at, run_id, repetition, request_index, prompt_tokens, output_tokens,"
    " ttft_ms, e2e_ms, itl_count, itl_mean_ms, itl_p50_ms, itl_p99_ms, energy_j, error)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
)
_CAMPAIGN_INSERT = (
    "INSERT INTO campaigns (campaign_id, name, description, job_count, spec, submitted_at)"
    " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (campaign_id) DO NOTHING"
)
_CAMPAIGN_CANCEL = (
    "UPDATE campaigns SET cancelled_at = COALESCE(cancelled_at, %s), cancel_reason = %s"
    " WHERE campaign_id = %s"
)
_CAMPAIGN_PROGRESS = (
    "UPDATE campaigns SET status = %s, progress = %s, progress_updated_at = %s"
    " WHERE campaign_id = %s AND (progress_updated_at IS NULL OR progress_updated_at <= %s)"
)
_JOB_QUEUED = (
    "INSERT INTO jobs AS j (job_id, campaign_id, pool, repetition, spec, queued_at)"
    " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (job_id) DO UPDATE SET"
    " repetition = EXCLUDED.repetition, spec = EXCLUDED.spec, queued_at = EXCLUDED.queued_at"
    " WHERE j.spec = '{}'::jsonb"  # fills a stub left by an earlier job.status only
)
# Only a newer revision moves a job; the job row may not exist yet (its job.queued can come later
# in a batch replayed out of order), so the status waits in a stub row.
_JOB_STATUS = (
    "INSERT INTO jobs AS j (job_id, campaign_id, pool, repetition, spec, queued_at, status,"
    " status_revision, status_reason, attempt, runner_id, run_id, status_changed_at)"
    " VALUES (%(job_id)s, %(campaign_id)s, %(pool)s, 0, '{}', %(at)s, %(status)s, %(revision)s,"
    " %(reason)s, %(attempt)s, %(runner_id)s, %(run_id)s, %(at)s)"
    " ON CONFLICT (job_id) DO UPDATE SET status = EXCLUDED.status,"
    " status_revision = EXCLUDED.status_revision, status_reason = EXCLUDED.status_reason,"
    " attempt = EXCLUDED.attempt, runner_id = EXCLUDED.runner_id, run_id = EXCLUDED.run_id,"
    " status_changed_at = EXCLUDED.status_changed_at"
    " WHERE j.status_revision < EXCLUDED.status_revision"
)
_RUNNER_UPSERT = (
    "INSERT INTO runners AS r (runner_id, hostname, pools, started_at, last_seen_at,"
    " heartbeat_interval_s, current_job_id, current_run_id, gpus, llem_version)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (runner_id) DO UPDATE SET hostname = EXCLUDED.hostname, pools = EXCLUDED.pools,"
    " started_at = EXCLUDED.started_at, last_seen_at = EXCLUDED.last_seen_at,"
    " heartbeat_interval_s = EXCLUDED.heartbeat_interval_s, current_job_id = EXCLUDED.current_job_id,"
    " current_run_id = EXCLUDED.current_run_id, gpus = EXCLUDED.gpus,"
    " llem_version = EXCLUDED.llem_version WHERE r.last_seen_at <= EXCLUDED.last_seen_at"
)


async def write_requests(conn: AsyncConnection, event: RequestBatch) -> None:
    async with conn.cursor() as cur:
        await cur.executemany(_REQUEST_INSERT, [_request_row(event, r) for r in event.requests])


def _request_row(event: RequestBatch, r: RequestRecord) -> tuple[object, ...]:
    return (
        r.started_at,
        event.run_id,
        r.repetition,
        r.index,
        r.prompt_tokens,
        r.output_tokens,
        r.ttft_ms,
        r.e2e_ms,
        r.itl_count,
        r.itl_mean_ms,
        r.itl_p50_ms,
        r.itl_p99_ms,
        r.energy_j,
        r.error,
    )


async def write_campaign_submitted(conn: AsyncConnection, event: CampaignSubmitted) -> None:
    await conn.execute(
        _CAMPAIGN_INSERT,
        (
            event.campaign_id,
            event.name,
            event.description,
            event.job_count,
            Jsonb(event.spec),
            event.occurred_at,
        ),
    )


async def write_campaign_cancelled(conn: AsyncConnection, event: CampaignCancelled) -> None:
    await conn.execute(_CAMPAIGN_CANCEL, (event.occurred_at, event.reason, event.campaign_id))


async def write_campaign_progress(conn: AsyncConnection, event: CampaignProgress) -> None:
    progress = Jsonb(event.model_dump(mode="json", exclude={"event_id", "type", "schema_version"}))
    await conn.execute(
        _CAMPAIGN_PROGRESS,
        (event.status, progress, event.occurred_at, event.campaign_id, event.occurred_at),
    )


async def write_job_queued(conn: AsyncConnection, event: JobQueued) -> None:
    job = event.job
    spec = Jsonb(job.model_dump(mode="json"))
    await conn.execute(
        _JOB_QUEUED, (job.job_id, job.campaign_id, job.pool, job.repetition, spec, event.occurred_at)
    )


async def write_job_status(conn: AsyncConnection, event: JobStatusChanged) -> None:
    await conn.execute(
        _JOB_STATUS,
        {
            "job_id": event.job_id,
            "campaign_id": event.campaign_id,
            "pool": event.pool,
            "at": event.occurred_at,
            "status": event.status,
            "revision": event.revision,
            "reason": event.reason,
            "attempt": event.attempt,
            "runner_id": event.runner_id,
            "run_id": event.run_id,
        },
    )


async def write_runner_heartbeat(conn: AsyncConnection, event: RunnerHeartbeat) -> None:
    gpus = Jsonb([g.model_dump(mode="json") for g in event.gpus])
    await conn.execute(
        _RUNNER_UPSERT,
        (
            event.runner_id,
            event.hostname,
            event.pools,
            event.started_at,
            event.occurred_at,
            event.heartbeat_interval_s,
            event.current_job_id,
            event.current_run_id,
            gpus,
            event.llem_version,
        ),
    )


def entry(
    kind: type[E], writer: Callable[[AsyncConnection, E], Awaitable[None]]
) -> tuple[type[Event], Writer]:
    """A row of a writer table; mypy checks that the writer takes the event class it is filed under."""
    return kind, writer


WRITERS: dict[type[Event], Writer] = dict(
    (
        entry(RunStarted, write_run_started),
        entry(RunCompleted, write_run_completed),
        entry(RunFailed, write_run_failed),
        entry(RequestBatch, write_requests),
        entry(CampaignSubmitted, write_campaign_submitted),
        entry(CampaignCancelled, write_campaign_cancelled),
        entry(CampaignProgress, write_campaign_progress),
        entry(JobQueued, write_job_queued),
        entry(JobStatusChanged, write_job_status),
        entry(RunnerHeartbeat, write_runner_heartbeat),
    )
)
