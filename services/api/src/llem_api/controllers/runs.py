"""Runs: the list, one run's detail, its time series and requests, and its raw CSV downloads."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from litestar import Router, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, Parameter, QueryParameter
from litestar.response import Stream
from psycopg_pool import AsyncConnectionPool

from llem_api.dto import RequestPage, RunDetail, RunPage, RunStatus, TimeSeries
from llem_api.params import PageLimit, PageOffset, Text
from llem_api.problems import cacheable, problems
from llem_api.queries import (
    CSV_TABLES,
    RunSort,
    csv_rows,
    list_runs,
    run_detail,
    run_requests,
    run_timeseries,
    run_window,
)

Download = Literal["samples.csv", "requests.csv"]


@get("/", responses=cacheable(400))
async def get_runs(
    db: NamedDependency[AsyncConnectionPool],
    limit: PageLimit = 50,
    offset: PageOffset = 0,
    campaign_id: FromQuery[UUID | None] = None,
    model: Text = None,
    status: FromQuery[RunStatus | None] = None,
    include_superseded: FromQuery[bool] = True,
    sort: Annotated[
        RunSort, Parameter(description="Sort key; a leading `-` sorts descending. Nulls sort last.")
    ] = "-started_at",
) -> RunPage:
    async with db.connection() as conn:
        return await list_runs(conn, limit, offset, campaign_id, model, status, include_superseded, sort)


@get("/{run_id:uuid}", responses=cacheable(400, 404))
async def get_run(db: NamedDependency[AsyncConnectionPool], run_id: FromPath[UUID]) -> RunDetail:
    async with db.connection() as conn:
        return await run_detail(conn, run_id)


@get("/{run_id:uuid}/timeseries", responses=cacheable(400, 404))
async def get_run_timeseries(
    db: NamedDependency[AsyncConnectionPool],
    run_id: FromPath[UUID],
    bucket: Annotated[float, QueryParameter(gt=0, le=86400, description="Bucket width in seconds.")] = 1.0,
) -> TimeSeries:
    """Per GPU and time bucket: mean and peak power, temperature, clocks, utilisation."""
    async with db.connection() as conn:
        return await run_timeseries(conn, run_id, bucket)


@get("/{run_id:uuid}/requests", responses=cacheable(400, 404))
async def get_run_requests(db: NamedDependency[AsyncConnectionPool], run_id: FromPath[UUID]) -> RequestPage:
    async with db.connection() as conn:
        return await run_requests(conn, run_id)


@get("/{run_id:uuid}/download/{what:str}", media_type="text/csv", responses=problems(400, 404))
async def get_run_csv(
    db: NamedDependency[AsyncConnectionPool],
    run_id: FromPath[UUID],
    what: Annotated[Download, Parameter(description="Every metric sample, or every request record.")],
) -> Stream:
    """Raw downloads, streamed by PostgreSQL's own CSV writer."""
    async with db.connection() as conn:
        window = await run_window(conn, run_id)
    return Stream(
        csv_rows(db, CSV_TABLES[what], run_id, window),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{run_id}-{what}"'},
    )


router = Router(
    path="/api/runs", route_handlers=[get_runs, get_run, get_run_timeseries, get_run_requests, get_run_csv]
)
