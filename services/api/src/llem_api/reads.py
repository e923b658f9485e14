"""Read endpoints: health, runs (list, detail, time series, requests, raw downloads), campaigns and
the fleet. Thin handlers over `queries`; errors are problem details documented per operation."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from litestar import Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, Parameter, QueryParameter
from litestar.response import Stream
from psycopg_pool import AsyncConnectionPool

from llem_api.dto import (
    CampaignDetail,
    CampaignPage,
    Health,
    RequestPage,
    RunDetail,
    RunnerOut,
    RunPage,
    RunStatus,
    TimeSeries,
)
from llem_api.params import PageLimit, PageOffset, Text
from llem_api.problems import cacheable, problems
from llem_api.queries import (
    CSV_TABLES,
    RunSort,
    campaign_detail,
    csv_rows,
    list_campaigns,
    list_runners,
    list_runs,
    run_detail,
    run_requests,
    run_timeseries,
    run_window,
)
from llem_schemas.subjects import Layout

Download = Literal["samples.csv", "requests.csv"]


@get("/healthz")
async def healthz() -> Health:
    return Health(status="ok")


@get(
    "/readyz",
    responses={503: ResponseSpec(Health, description="The database does not answer; `checks` says why.")},
)
async def readyz(db: NamedDependency[AsyncConnectionPool]) -> Response[Health]:
    """Ready when the database answers (503 otherwise, with the reason)."""
    try:
        async with db.connection(timeout=2) as conn:
            await conn.execute("SELECT 1")
    except Exception as exc:
        return Response(Health(status="unavailable", checks={"database": str(exc)[:200]}), status_code=503)
    return Response(Health(status="ok", checks={"database": "ok"}))


@get("/api/runs", responses=cacheable(400))
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


@get("/api/runs/{run_id:uuid}", responses=cacheable(400, 404))
async def get_run(db: NamedDependency[AsyncConnectionPool], run_id: FromPath[UUID]) -> RunDetail:
    async with db.connection() as conn:
        return await run_detail(conn, run_id)


@get("/api/runs/{run_id:uuid}/timeseries", responses=cacheable(400, 404))
async def get_run_timeseries(
    db: NamedDependency[AsyncConnectionPool],
    run_id: FromPath[UUID],
    bucket: Annotated[float, QueryParameter(gt=0, le=86400, description="Bucket width in seconds.")] = 1.0,
) -> TimeSeries:
    """Per GPU and time bucket: mean and peak power, temperature, clocks, utilisation."""
    async with db.connection() as conn:
        return await run_timeseries(conn, run_id, bucket)


@get("/api/runs/{run_id:uuid}/requests", responses=cacheable(400, 404))
async def get_run_requests(db: NamedDependency[AsyncConnectionPool], run_id: FromPath[UUID]) -> RequestPage:
    async with db.connection() as conn:
        return await run_requests(conn, run_id)


@get("/api/runs/{run_id:uuid}/download/{what:str}", media_type="text/csv", responses=problems(400, 404))
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


@get("/api/campaigns", responses=cacheable(400))
async def get_campaigns(
    db: NamedDependency[AsyncConnectionPool], limit: PageLimit = 50, offset: PageOffset = 0
) -> CampaignPage:
    async with db.connection() as conn:
        return await list_campaigns(conn, limit, offset)


@get("/api/campaigns/{campaign_id:uuid}", responses=cacheable(400, 404))
async def get_campaign(
    db: NamedDependency[AsyncConnectionPool], campaign_id: FromPath[UUID]
) -> CampaignDetail:
    async with db.connection() as conn:
        return await campaign_detail(conn, campaign_id)


@get("/api/runners", responses=cacheable())
async def get_runners(db: NamedDependency[AsyncConnectionPool], state: State) -> list[RunnerOut]:
    layout: Layout = state.layout
    async with db.connection() as conn:
        return await list_runners(conn, layout.runner_ttl_s)


HANDLERS = [
    healthz,
    readyz,
    get_runs,
    get_run,
    get_run_timeseries,
    get_run_requests,
    get_run_csv,
    get_campaigns,
    get_campaign,
    get_runners,
]
