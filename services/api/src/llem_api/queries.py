"""Read queries: plain functions over a connection, returning DTOs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, Literal, get_args
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from llem_api.dto import (
    CampaignDetail,
    CampaignOut,
    CampaignPage,
    CampaignProgressOut,
    JobOut,
    RequestOut,
    RequestPage,
    RunDetail,
    RunnerOut,
    RunOut,
    RunPage,
    SeriesPoint,
    TimeSeries,
)
from llem_api.errors import NotFound
from llem_schemas.jobs import JobSpec
from llem_schemas.measurement import GpuInfo, HostFingerprint, QualityFlag, RepetitionResult, RunSummary

_RUN_COLUMNS = (
    "run_id, job_id, campaign_id, runner_id, attempt, status, superseded, started_at, ended_at, backend, model, meter,"
    " prompt_tokens, output_tokens, duration_s, output_tokens_per_s, energy_j, energy_per_output_token_j,"
    " quality_flags, failure_reason"
)


RunSort = Literal[
    "started_at",
    "-started_at",
    "energy_per_output_token_j",
    "-energy_per_output_token_j",
    "output_tokens_per_s",
    "-output_tokens_per_s",
    "energy_j",
    "-energy_j",
]
RUN_SORTS = {key.removeprefix("-") for key in get_args(RunSort)}  # the columns one may sort by


def _run(row: dict[str, Any]) -> RunOut:
    return RunOut(**{**row, "quality_flags": [QualityFlag.model_validate(f) for f in row["quality_flags"]]})


async def list_runs(
    conn: AsyncConnection,
    limit: int,
    offset: int,
    campaign_id: UUID | None = None,
    model: str | None = None,
    status: str | None = None,
    include_superseded: bool = True,
    sort: RunSort = "-started_at",
) -> RunPage:
    """`sort`: a column, `-` first for descending; nulls last either way; run id breaks ties."""
    key = sort.removeprefix("-")
    assert key in RUN_SORTS  # the handler's Literal refuses anything else with a 400
    order = f"{key} {'DESC' if sort.startswith('-') else 'ASC'} NULLS LAST, run_id"
    where = (
        "(%(campaign_id)s::uuid IS NULL OR campaign_id = %(campaign_id)s)"
        " AND (%(model)s::text IS NULL OR COALESCE(model_name, model) = %(model)s)"
        " AND (%(status)s::text IS NULL OR status = %(status)s)"
        " AND (%(superseded)s OR NOT superseded)"
    )
    params = {
        "campaign_id": campaign_id,
        "model": model,
        "status": status,
        "superseded": include_superseded,
        "limit": limit,
        "offset": offset,
    }
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE {where} ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s",
            params,
        )
        rows = await cur.fetchall()
        await cur.execute(f"SELECT count(*) AS n FROM runs WHERE {where}", params)
        total = await cur.fetchone()
    return RunPage(
        items=[_run(row) for row in rows],
        total=int(total["n"]) if total else 0,
        limit=limit,
        offset=offset,
    )


async def _one(conn: AsyncConnection, sql: str, *args: object) -> dict[str, Any] | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql, args)
        return await cur.fetchone()


async def _all(conn: AsyncConnection, sql: str, *args: object) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql, args)
        return list(await cur.fetchall())


async def run_detail(conn: AsyncConnection, run_id: UUID) -> RunDetail:
    row = await _one(
        conn, f"SELECT {_RUN_COLUMNS}, job, fingerprint, summary FROM runs WHERE run_id = %s", run_id
    )
    if row is None:
        raise NotFound(f"no run {run_id}")
    job, fingerprint, summary = row.pop("job"), row.pop("fingerprint"), row.pop("summary")
    reps = await _all(
        conn,
        "SELECT repetition, window_start, window_end, duration_s, requests, output_tokens, output_tokens_per_s,"
        " energy_j, active_energy_j, energy_per_output_token_j FROM run_repetitions WHERE run_id = %s"
        " ORDER BY repetition",
        run_id,
    )
    return RunDetail(
        run=_run(row),
        job=JobSpec.model_validate(job) if job is not None else None,
        fingerprint=HostFingerprint.model_validate(fingerprint) if fingerprint is not None else None,
        summary=RunSummary.model_validate(summary) if summary is not None else None,
        repetitions=[RepetitionResult.model_validate(r) for r in reps],
    )


# A run's samples lie between its start and its end (runner clock both); the margin only keeps a
# skewed sample in view. The bounds let TimescaleDB skip every other chunk: without them a query for
# one run plans and probes every chunk of the hypertable (60 daily chunks: 100+ ms, JIT included).
_WINDOW = (
    "SELECT COALESCE(started_at, '-infinity') - interval '6 hours' AS lo,"
    " COALESCE(ended_at, 'infinity') + interval '6 hours' AS hi FROM runs WHERE run_id = %s"
)


async def run_window(conn: AsyncConnection, run_id: UUID) -> tuple[datetime, datetime]:
    """The time range that holds the run's samples and request records; NotFound without the run."""
    row = await _one(conn, _WINDOW, run_id)
    if row is None:
        raise NotFound(f"no run {run_id}")
    return row["lo"], row["hi"]


async def run_timeseries(conn: AsyncConnection, run_id: UUID, bucket_s: float) -> TimeSeries:
    """Per GPU and time bucket (TimescaleDB `time_bucket`): mean power, temperature, clocks and
    utilisation, the last energy-counter reading, and how many samples the bucket holds."""
    lo, hi = await run_window(conn, run_id)
    rows = await _all(
        conn,
        "SELECT time_bucket(make_interval(secs => %s), sampled_at) AS bucket, gpu_index,"
        " avg(power_w) AS power_w, max(power_w) AS power_max_w, max(energy_counter_j) AS energy_counter_j, avg(temperature_c) AS temperature_c,"
        " avg(sm_clock_mhz) AS sm_clock_mhz, avg(memory_clock_mhz) AS memory_clock_mhz,"
        " avg(gpu_utilization_pct) AS gpu_utilization_pct, count(*) AS samples"
        " FROM metric_samples WHERE run_id = %s AND sampled_at BETWEEN %s AND %s"
        " GROUP BY bucket, gpu_index ORDER BY bucket, gpu_index NULLS FIRST",
        bucket_s,
        run_id,
        lo,
        hi,
    )
    return TimeSeries(run_id=run_id, bucket_s=bucket_s, points=[SeriesPoint(**r) for r in rows])


async def run_requests(conn: AsyncConnection, run_id: UUID) -> RequestPage:
    lo, hi = await run_window(conn, run_id)
    rows = await _all(
        conn,
        "SELECT repetition, request_index, started_at, prompt_tokens, output_tokens, ttft_ms, e2e_ms, itl_count,"
        " itl_mean_ms, itl_p50_ms, itl_p99_ms, energy_j, error FROM request_samples"
        " WHERE run_id = %s AND started_at BETWEEN %s AND %s ORDER BY repetition, request_index",
        run_id,
        lo,
        hi,
    )
    return RequestPage(run_id=run_id, items=[RequestOut(**r) for r in rows])


_CAMPAIGN_COLUMNS = "campaign_id, name, description, job_count, status, submitted_at, cancelled_at, progress"


def _campaign(row: dict[str, Any]) -> CampaignOut:
    progress = row["progress"]
    return CampaignOut(
        **{**row, "progress": CampaignProgressOut.model_validate(progress) if progress is not None else None}
    )


async def list_campaigns(conn: AsyncConnection, limit: int, offset: int) -> CampaignPage:
    rows = await _all(
        conn,
        f"SELECT {_CAMPAIGN_COLUMNS} FROM campaigns ORDER BY submitted_at DESC, campaign_id LIMIT %s OFFSET %s",
        limit,
        offset,
    )
    total = await _one(conn, "SELECT count(*) AS n FROM campaigns")
    return CampaignPage(
        items=[_campaign(r) for r in rows], total=int(total["n"]) if total else 0, limit=limit, offset=offset
    )


async def campaign_detail(conn: AsyncConnection, campaign_id: UUID) -> CampaignDetail:
    row = await _one(conn, f"SELECT {_CAMPAIGN_COLUMNS} FROM campaigns WHERE campaign_id = %s", campaign_id)
    if row is None:
        raise NotFound(f"no campaign {campaign_id}")
    jobs = await _all(
        conn,
        "SELECT job_id, pool, repetition, status, attempt, runner_id, run_id, status_reason,"
        " status_revision AS revision, status_changed_at AS updated_at, spec FROM jobs"
        " WHERE campaign_id = %s ORDER BY queued_at, job_id",
        campaign_id,
    )
    return CampaignDetail(campaign=_campaign(row), jobs=[_job(j) for j in jobs])


def _job(row: dict[str, Any]) -> JobOut:
    spec = row.pop("spec")
    # '{}': a stub row from a job.status that arrived before the job's job.queued
    return JobOut(**row, job=JobSpec.model_validate(spec) if spec else None)


async def campaign_status(conn: AsyncConnection, campaign_id: UUID) -> str | None:
    """The campaign's status as ingest last recorded it (from `campaign.progress`); None if unknown."""
    row = await _one(conn, "SELECT status FROM campaigns WHERE campaign_id = %s", campaign_id)
    return str(row["status"]) if row is not None else None


async def list_runners(conn: AsyncConnection, heartbeat_ttl_s: float) -> list[RunnerOut]:
    """The fleet as last seen; `alive` while the last heartbeat is younger than three intervals;
    `heartbeat_ttl_s` is the deployment's runner TTL, for clients that judge liveness themselves."""
    rows = await _all(
        conn,
        "SELECT runner_id, hostname, pools, started_at, last_seen_at, current_job_id, current_run_id, gpus,"
        " llem_version, last_seen_at > now() - make_interval(secs => 3 * heartbeat_interval_s) AS alive"
        " FROM runners ORDER BY runner_id",
    )
    return [
        RunnerOut(
            **{**r, "gpus": [GpuInfo.model_validate(g) for g in r["gpus"]]}, heartbeat_ttl_s=heartbeat_ttl_s
        )
        for r in rows
    ]


CSV_TABLES = {
    "samples.csv": (
        "metric_samples",
        "sampled_at, gpu_index, meter, power_w, power_avg_w, energy_counter_j, temperature_c, gpu_utilization_pct,"
        " memory_used_bytes, sm_clock_mhz, memory_clock_mhz, throttle_reasons, cpu_package_energy_counter_j,"
        " dram_energy_counter_j, requests_completed_total, prompt_tokens_total, output_tokens_total",
        "sampled_at",
        "sampled_at, gpu_index",
    ),
    "requests.csv": (
        "request_samples",
        "repetition, request_index, started_at, prompt_tokens, output_tokens, ttft_ms, e2e_ms, itl_count,"
        " itl_mean_ms, itl_p50_ms, itl_p99_ms, energy_j, error",
        "started_at",
        "repetition, request_index",
    ),
}


async def csv_rows(
    pool: Any, table: tuple[str, str, str, str], run_id: UUID, window: tuple[datetime, datetime]
) -> AsyncIterator[bytes]:
    """PostgreSQL's own CSV writer, streamed: constant memory whatever the run's size."""
    name, columns, time_column, order = table
    async with pool.connection() as conn, conn.cursor() as cur:
        query = (
            f"COPY (SELECT {columns} FROM {name} WHERE run_id = %s AND {time_column} BETWEEN %s AND %s"
            f" ORDER BY {order}) TO STDOUT WITH (FORMAT csv, HEADER true)"
        )
        async with cur.copy(query, (run_id, *window)) as copy:
            async for chunk in copy:
                yield bytes(chunk)
