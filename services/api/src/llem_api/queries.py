"""Read queries: plain functions over a connection, returning DTOs."""

from __future__ import annotations

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from llem_api.dto import RunOut, RunPage

_RUN_COLUMNS = (
    "run_id, job_id, campaign_id, runner_id, attempt, status, superseded, started_at, ended_at, backend, model, meter,"
    " prompt_tokens, output_tokens, duration_s, output_tokens_per_s, energy_j, energy_per_output_token_j,"
    " quality_flags, failure_reason"
)


async def list_runs(conn: AsyncConnection, limit: int, offset: int) -> RunPage:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY started_at DESC NULLS LAST, run_id LIMIT %s OFFSET %s",
            (limit, offset),
        )
        rows = await cur.fetchall()
        await cur.execute("SELECT count(*) AS n FROM runs")
        total = await cur.fetchone()
    return RunPage(
        items=[RunOut(**row) for row in rows],
        total=int(total["n"]) if total else 0,
        limit=limit,
        offset=offset,
    )
