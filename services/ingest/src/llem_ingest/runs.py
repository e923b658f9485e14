"""The run lifecycle events into `runs` (and `run_repetitions`): one upsert that never moves a run
back from a final status, then the older attempts of the job marked superseded. Callers own the
transaction."""

from __future__ import annotations

from uuid import UUID

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from llem_schemas.events import RunCompleted, RunFailed, RunStarted
from llem_schemas.measurement import RepetitionResult

_RUN_UPSERT = """
INSERT INTO runs (run_id, job_id, campaign_id, runner_id, attempt, status, started_at, ended_at, backend, model,
                  meter, job, fingerprint, summary, prompt_tokens, output_tokens, duration_s, energy_j,
                  energy_per_output_token_j, output_tokens_per_s, quality_flags, failure_reason, failure_type,
                  retryable, prompt_set, model_name, gpu_name, gpu_count)
VALUES (%(run_id)s, %(job_id)s, %(campaign_id)s, %(runner_id)s, %(attempt)s, %(status)s, %(started_at)s,
        %(ended_at)s, %(backend)s, %(model)s, %(meter)s, %(job)s, %(fingerprint)s, %(summary)s, %(prompt_tokens)s,
        %(output_tokens)s, %(duration_s)s, %(energy_j)s, %(energy_per_output_token_j)s, %(output_tokens_per_s)s,
        %(quality_flags)s, %(failure_reason)s, %(failure_type)s, %(retryable)s, %(prompt_set)s, %(model_name)s,
        %(gpu_name)s, %(gpu_count)s)
ON CONFLICT (run_id) DO UPDATE SET
    status = CASE WHEN runs.status IN ('completed', 'failed') THEN runs.status ELSE EXCLUDED.status END,
    started_at = COALESCE(runs.started_at, EXCLUDED.started_at),
    ended_at = COALESCE(runs.ended_at, EXCLUDED.ended_at),
    backend = COALESCE(runs.backend, EXCLUDED.backend),
    model = COALESCE(runs.model, EXCLUDED.model),
    meter = COALESCE(runs.meter, EXCLUDED.meter),
    job = COALESCE(runs.job, EXCLUDED.job),
    fingerprint = COALESCE(runs.fingerprint, EXCLUDED.fingerprint),
    summary = COALESCE(runs.summary, EXCLUDED.summary),
    prompt_tokens = COALESCE(runs.prompt_tokens, EXCLUDED.prompt_tokens),
    output_tokens = COALESCE(runs.output_tokens, EXCLUDED.output_tokens),
    duration_s = COALESCE(runs.duration_s, EXCLUDED.duration_s),
    energy_j = COALESCE(runs.energy_j, EXCLUDED.energy_j),
    energy_per_output_token_j = COALESCE(runs.energy_per_output_token_j, EXCLUDED.energy_per_output_token_j),
    output_tokens_per_s = COALESCE(runs.output_tokens_per_s, EXCLUDED.output_tokens_per_s),
    quality_flags = CASE WHEN EXCLUDED.summary IS NOT NULL THEN EXCLUDED.quality_flags ELSE runs.quality_flags END,
    failure_reason = COALESCE(runs.failure_reason, EXCLUDED.failure_reason),
    failure_type = COALESCE(runs.failure_type, EXCLUDED.failure_type),
    retryable = COALESCE(runs.retryable, EXCLUDED.retryable),
    prompt_set = COALESCE(runs.prompt_set, EXCLUDED.prompt_set),
    model_name = COALESCE(runs.model_name, EXCLUDED.model_name),
    gpu_name = COALESCE(runs.gpu_name, EXCLUDED.gpu_name),
    gpu_count = COALESCE(runs.gpu_count, EXCLUDED.gpu_count),
    updated_at = now()
"""

_MARK_SUPERSEDED = """
UPDATE runs SET superseded = true, updated_at = now()
WHERE job_id = %(job_id)s AND NOT superseded
  AND attempt < (SELECT max(attempt) FROM runs WHERE job_id = %(job_id)s)
"""

_REPETITION_INSERT = (
    "INSERT INTO run_repetitions (run_id, repetition, window_start, window_end, duration_s, requests,"
    " output_tokens, output_tokens_per_s, energy_j, active_energy_j, energy_per_output_token_j)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
)

# Every column of the upsert an event does not set is null (COALESCE then keeps what is stored).
_RUN_NULLS = dict.fromkeys(
    (
        "started_at",
        "ended_at",
        "backend",
        "model",
        "meter",
        "job",
        "fingerprint",
        "summary",
        "prompt_tokens",
        "output_tokens",
        "duration_s",
        "energy_j",
        "energy_per_output_token_j",
        "output_tokens_per_s",
        "failure_reason",
        "failure_type",
        "retryable",
        "prompt_set",
        "model_name",
        "gpu_name",
        "gpu_count",
    )
)


def _run_row(event: RunStarted | RunCompleted | RunFailed, **fields: object) -> dict[str, object]:
    ids = {
        "run_id": event.run_id,
        "job_id": event.job_id,
        "campaign_id": event.campaign_id,
        "runner_id": event.runner_id,
        "attempt": event.attempt,
    }
    return {**_RUN_NULLS, **ids, "quality_flags": Jsonb([]), **fields}


async def _upsert_run(conn: AsyncConnection, row: dict[str, object], job_id: UUID) -> None:
    await conn.execute(_RUN_UPSERT, row)
    await conn.execute(_MARK_SUPERSEDED, {"job_id": job_id})


async def write_run_started(conn: AsyncConnection, event: RunStarted) -> None:
    backend = event.job.backend
    model = backend.model_path if backend.kind == "llama_cpp" else backend.model
    gpus = event.fingerprint.gpus
    row = _run_row(
        event,
        status="running",
        started_at=event.occurred_at,
        backend=backend.kind,
        model=model,
        meter=event.meter,
        job=Jsonb(event.job.model_dump(mode="json")),
        fingerprint=Jsonb(event.fingerprint.model_dump(mode="json")),
        prompt_set=event.job.workload.prompt_set,
        model_name=event.job.model_name or model,
        gpu_name=gpus[0].name if gpus else None,
        gpu_count=len(gpus),
    )
    await _upsert_run(conn, row, event.job_id)


async def write_run_completed(conn: AsyncConnection, event: RunCompleted) -> None:
    s = event.summary
    row = _run_row(
        event,
        status="completed",
        ended_at=event.occurred_at,
        meter=s.measurement.meter,
        summary=Jsonb(s.model_dump(mode="json")),
        prompt_tokens=s.prompt_tokens,
        output_tokens=s.output_tokens,
        duration_s=s.duration_s,
        energy_j=s.energy_j,
        energy_per_output_token_j=s.energy_per_output_token_j,
        output_tokens_per_s=s.output_tokens_per_s,
        quality_flags=Jsonb([f.model_dump(mode="json") for f in s.quality_flags]),
    )
    await _upsert_run(conn, row, event.job_id)
    if s.repetitions:
        async with conn.cursor() as cur:
            await cur.executemany(
                _REPETITION_INSERT, [_repetition_row(event.run_id, r) for r in s.repetitions]
            )


def _repetition_row(run_id: UUID, r: RepetitionResult) -> tuple[object, ...]:
    return (
        run_id,
        r.repetition,
        r.window_start,
        r.window_end,
        r.duration_s,
        r.requests,
        r.output_tokens,
        r.output_tokens_per_s,
        r.energy_j,
        r.active_energy_j,
        r.energy_per_output_token_j,
    )


async def write_run_failed(conn: AsyncConnection, event: RunFailed) -> None:
    row = _run_row(
        event,
        status="failed",
        ended_at=event.occurred_at,
        failure_reason=event.reason,
        failure_type=event.error_type,
        retryable=event.retryable,
    )
    await _upsert_run(conn, row, event.job_id)
