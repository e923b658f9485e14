"""Idempotent writes of events into PostgreSQL/TimescaleDB. Callers own the transaction."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any, NamedTuple
from uuid import UUID

import psycopg
from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from llem_schemas.events import (
    AnyEvent,
    CampaignCancelled,
    CampaignProgress,
    CampaignSubmitted,
    JobQueued,
    JobStatusChanged,
    MetricBatch,
    RequestBatch,
    RunCompleted,
    RunFailed,
    RunnerHeartbeat,
    RunStarted,
)

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

_REPETITION_INSERT = (
    "INSERT INTO run_repetitions (run_id, repetition, window_start, window_end, duration_s, requests,"
    " output_tokens, output_tokens_per_s, energy_j, active_energy_j, energy_per_output_token_j)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
)
_REQUEST_INSERT = (
    "INSERT INTO request_samples (started_at, run_id, repetition, request_index, prompt_tokens, output_tokens,"
    " ttft_ms, e2e_ms, itl_count, itl_mean_ms, itl_p50_ms, itl_p99_ms, energy_j, error)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
)

_MARK_SUPERSEDED = """
UPDATE runs SET superseded = true, updated_at = now()
WHERE job_id = %(job_id)s AND NOT superseded
  AND attempt < (SELECT max(attempt) FROM runs WHERE job_id = %(job_id)s)
"""

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


def _run_row(event: RunStarted | RunCompleted | RunFailed) -> dict[str, object]:
    row: dict[str, object] = {
        **_RUN_NULLS,
        "run_id": event.run_id,
        "job_id": event.job_id,
        "campaign_id": event.campaign_id,
        "runner_id": event.runner_id,
        "attempt": event.attempt,
        "quality_flags": Jsonb([]),
    }
    match event:
        case RunStarted():
            backend = event.job.backend
            model = backend.model_path if backend.kind == "llama_cpp" else backend.model
            row |= {
                "status": "running",
                "started_at": event.occurred_at,
                "backend": backend.kind,
                "model": model,
                "meter": event.meter,
                "job": Jsonb(event.job.model_dump(mode="json")),
                "fingerprint": Jsonb(event.fingerprint.model_dump(mode="json")),
                "prompt_set": event.job.workload.prompt_set,
                "model_name": event.job.model_name or model,
                "gpu_name": event.fingerprint.gpus[0].name if event.fingerprint.gpus else None,
                "gpu_count": len(event.fingerprint.gpus),
            }
        case RunCompleted(summary=s):
            row |= {
                "status": "completed",
                "ended_at": event.occurred_at,
                "meter": s.measurement.meter,
                "summary": Jsonb(s.model_dump(mode="json")),
                "prompt_tokens": s.prompt_tokens,
                "output_tokens": s.output_tokens,
                "duration_s": s.duration_s,
                "energy_j": s.energy_j,
                "energy_per_output_token_j": s.energy_per_output_token_j,
                "output_tokens_per_s": s.output_tokens_per_s,
                "quality_flags": Jsonb([f.model_dump(mode="json") for f in s.quality_flags]),
            }
        case RunFailed():
            row |= {
                "status": "failed",
                "ended_at": event.occurred_at,
                "failure_reason": event.reason,
                "failure_type": event.error_type,
                "retryable": event.retryable,
            }
    return row


async def _write_one(conn: AsyncConnection, event: AnyEvent) -> None:
    match event:
        case RunStarted() | RunCompleted() | RunFailed():
            await conn.execute(_RUN_UPSERT, _run_row(event))
            await conn.execute(_MARK_SUPERSEDED, {"job_id": event.job_id})
            if isinstance(event, RunCompleted) and event.summary.repetitions:
                async with conn.cursor() as cur:
                    await cur.executemany(
                        _REPETITION_INSERT,
                        [
                            (
                                event.run_id,
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
                            for r in event.summary.repetitions
                        ],
                    )
        case RequestBatch():
            async with conn.cursor() as cur:
                await cur.executemany(
                    _REQUEST_INSERT,
                    [
                        (
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
                        for r in event.requests
                    ],
                )
        case MetricBatch():
            await write_samples(conn, [SampleBatch.of(event)])
        case CampaignSubmitted():
            await conn.execute(
                "INSERT INTO campaigns (campaign_id, name, description, job_count, spec, submitted_at)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (campaign_id) DO NOTHING",
                (
                    event.campaign_id,
                    event.name,
                    event.description,
                    event.job_count,
                    Jsonb(event.spec),
                    event.occurred_at,
                ),
            )
        case CampaignCancelled():
            await conn.execute(
                "UPDATE campaigns SET cancelled_at = COALESCE(cancelled_at, %s), cancel_reason = %s"
                " WHERE campaign_id = %s",
                (event.occurred_at, event.reason, event.campaign_id),
            )
        case JobQueued(job=job):
            await conn.execute(
                "INSERT INTO jobs AS j (job_id, campaign_id, pool, repetition, spec, queued_at)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (job_id) DO UPDATE SET"
                " repetition = EXCLUDED.repetition, spec = EXCLUDED.spec, queued_at = EXCLUDED.queued_at"
                " WHERE j.spec = '{}'::jsonb",  # fills a stub left by an earlier job.status only
                (
                    job.job_id,
                    job.campaign_id,
                    job.pool,
                    job.repetition,
                    Jsonb(job.model_dump(mode="json")),
                    event.occurred_at,
                ),
            )
        case JobStatusChanged():
            # Only a newer revision moves a job; the job row may not exist yet (its job.queued can
            # come later in a batch replayed out of order), so the status waits in a stub row.
            await conn.execute(
                "INSERT INTO jobs AS j (job_id, campaign_id, pool, repetition, spec, queued_at, status,"
                " status_revision, status_reason, attempt, runner_id, run_id, status_changed_at)"
                " VALUES (%(job_id)s, %(campaign_id)s, %(pool)s, 0, '{}', %(at)s, %(status)s, %(revision)s,"
                " %(reason)s, %(attempt)s, %(runner_id)s, %(run_id)s, %(at)s)"
                " ON CONFLICT (job_id) DO UPDATE SET status = EXCLUDED.status,"
                " status_revision = EXCLUDED.status_revision, status_reason = EXCLUDED.status_reason,"
                " attempt = EXCLUDED.attempt, runner_id = EXCLUDED.runner_id, run_id = EXCLUDED.run_id,"
                " status_changed_at = EXCLUDED.status_changed_at"
                " WHERE j.status_revision < EXCLUDED.status_revision",
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
        case CampaignProgress():
            await conn.execute(
                "UPDATE campaigns SET status = %s, progress = %s, progress_updated_at = %s"
                " WHERE campaign_id = %s AND (progress_updated_at IS NULL OR progress_updated_at <= %s)",
                (
                    event.status,
                    Jsonb(event.model_dump(mode="json", exclude={"event_id", "type", "schema_version"})),
                    event.occurred_at,
                    event.campaign_id,
                    event.occurred_at,
                ),
            )
        case RunnerHeartbeat():
            await conn.execute(
                "INSERT INTO runners AS r (runner_id, hostname, pools, started_at, last_seen_at,"
                " heartbeat_interval_s, current_job_id, current_run_id, gpus, llem_version)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (runner_id) DO UPDATE SET hostname = EXCLUDED.hostname, pools = EXCLUDED.pools,"
                " started_at = EXCLUDED.started_at, last_seen_at = EXCLUDED.last_seen_at,"
                " heartbeat_interval_s = EXCLUDED.heartbeat_interval_s, current_job_id = EXCLUDED.current_job_id,"
                " current_run_id = EXCLUDED.current_run_id, gpus = EXCLUDED.gpus,"
                " llem_version = EXCLUDED.llem_version WHERE r.last_seen_at <= EXCLUDED.last_seen_at",
                (
                    event.runner_id,
                    event.hostname,
                    event.pools,
                    event.started_at,
                    event.occurred_at,
                    event.heartbeat_interval_s,
                    event.current_job_id,
                    event.current_run_id,
                    Jsonb([g.model_dump(mode="json") for g in event.gpus]),
                    event.llem_version,
                ),
            )


async def write_events(conn: AsyncConnection, events: Sequence[AnyEvent]) -> None:
    for event in events:
        await _write_one(conn, event)


class SampleBatch(NamedTuple):
    """A metric batch reduced to what the samples table needs (from the fast decoder or a model)."""

    run_id: UUID
    seq: int
    meter: str
    samples: list[dict[str, Any]]

    @classmethod
    def of(cls, event: MetricBatch) -> SampleBatch:
        return cls(event.run_id, event.seq, event.meter, [s.model_dump() for s in event.samples])

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> SampleBatch:
        return cls(doc["run_id"], doc["seq"], doc["meter"], doc["samples"])


# (column, PostgreSQL type for binary COPY); every MetricSample field has its column.
_SAMPLE_FIELDS = (
    ("sampled_at", "timestamptz"),
    ("gpu_index", "int2"),
    ("power_w", "float8"),
    ("power_avg_w", "float8"),
    ("energy_counter_j", "float8"),
    ("temperature_c", "float8"),
    ("gpu_utilization_pct", "float8"),
    ("memory_used_bytes", "int8"),
    ("sm_clock_mhz", "float8"),
    ("memory_clock_mhz", "float8"),
    ("throttle_reasons", "int8"),
    ("cpu_package_energy_counter_j", "float8"),
    ("dram_energy_counter_j", "float8"),
    ("requests_completed_total", "int8"),
    ("prompt_tokens_total", "int8"),
    ("output_tokens_total", "int8"),
)
_SAMPLE_COLUMNS = ("run_id", "meter", *(name for name, _ in _SAMPLE_FIELDS))
_SAMPLE_TYPES = ("uuid", "text", *(kind for _, kind in _SAMPLE_FIELDS))
_FIELD_NAMES = tuple(name for name, _ in _SAMPLE_FIELDS)
_COLUMNS = ", ".join(_SAMPLE_COLUMNS)
# Binary COPY into a per-connection staging table (emptied at each commit), then one set-based
# INSERT that skips rows already stored: idempotent on the natural key (run, GPU, instant).
_STAGING = (
    "CREATE TEMP TABLE IF NOT EXISTS staging_samples"
    " (LIKE metric_samples INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
)
_MERGE = (
    f"INSERT INTO metric_samples ({_COLUMNS}) SELECT {_COLUMNS} FROM staging_samples ON CONFLICT DO NOTHING"
)


_ALL_FIELDS = operator.itemgetter(*_FIELD_NAMES)


def _fields(sample: dict[str, Any]) -> tuple[object, ...]:
    try:
        return _ALL_FIELDS(sample)  # type: ignore[no-any-return]
    except KeyError:  # a field left out (the fast decoder fills no defaults): null
        return tuple(sample.get(n) for n in _FIELD_NAMES)


def sample_rows(batches: Sequence[SampleBatch]) -> list[tuple[object, ...]]:
    return [(b.run_id, b.meter, *_fields(s)) for b in batches for s in b.samples]


async def copy_rows(conn: AsyncConnection, table: str, rows: Sequence[tuple[object, ...]]) -> None:
    """Binary COPY of sample rows into `table` (the staging table, or the hypertable for the benchmark)."""
    statement = f"COPY {table} ({_COLUMNS}) FROM STDIN (FORMAT BINARY)"
    async with conn.cursor() as cur, cur.copy(statement) as copy:
        copy.set_types(list(_SAMPLE_TYPES))
        for row in rows:
            await copy.write_row(row)


_NEW_BATCHES = (
    "INSERT INTO metric_batches (run_id, seq, samples)"
    " SELECT * FROM unnest(%s::uuid[], %s::integer[], %s::integer[])"
    " ON CONFLICT DO NOTHING RETURNING run_id, seq"
)


async def write_samples(conn: AsyncConnection, batches: Sequence[SampleBatch]) -> int:
    """Store the samples of batches not stored before; returns the number of new samples.

    A batch (run_id, seq) is the runner's unit of publication and its samples are fixed by it, so
    its key decides: new batches go straight into the hypertable by binary COPY, known ones are
    skipped. Should a new batch still repeat a stored sample (a runner bug), the COPY fails on the
    hypertable's unique key and those batches go through the staging table and a merge instead.
    """
    unique = list({(b.run_id, b.seq): b for b in batches}.values())
    if not unique:
        return 0
    async with conn.cursor() as cur:
        await cur.execute(
            _NEW_BATCHES,
            ([b.run_id for b in unique], [b.seq for b in unique], [len(b.samples) for b in unique]),
        )
        new = {(row[0], row[1]) for row in await cur.fetchall()}
    rows = sample_rows([b for b in unique if (b.run_id, b.seq) in new])
    if not rows:
        return 0
    try:
        async with conn.transaction():  # a savepoint: a refused COPY leaves the batch usable
            await copy_rows(conn, "metric_samples", rows)
    except psycopg.errors.UniqueViolation:
        await conn.execute(_STAGING)
        await copy_rows(conn, "staging_samples", rows)
        await conn.execute(_MERGE)
    return len(rows)


async def dead_letter(
    conn: AsyncConnection, stream: str, subject: str, seq: int, payload: bytes, reason: str
) -> None:
    await conn.execute(
        "INSERT INTO dead_letters (stream, subject, stream_seq, payload, reason) VALUES (%s, %s, %s, %s, %s)"
        " ON CONFLICT (stream, stream_seq) DO NOTHING",
        (stream, subject, seq, payload, reason),
    )
