"""Litestar app factory. The lifespan owns the database pool; errors become RFC 9457 problems."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated
from uuid import UUID

from litestar import Litestar, Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.params import FromPath, FromQuery, Parameter, QueryParameter
from psycopg_pool import AsyncConnectionPool

from llem_api.dto import (
    CampaignDetail,
    CampaignOut,
    Health,
    RequestPage,
    RunDetail,
    RunnerOut,
    RunPage,
    TimeSeries,
)
from llem_api.errors import ApiError
from llem_api.leaderboard import Constraints, Filters, Leaderboard, Percentile, leaderboard
from llem_api.queries import (
    campaign_detail,
    list_campaigns,
    list_runners,
    list_runs,
    run_detail,
    run_requests,
    run_timeseries,
)
from llem_api.settings import ApiSettings

PROBLEM = "application/problem+json"


def _problem(
    request: Request[object, object, State], status: int, title: str, detail: str
) -> Response[dict[str, object]]:
    return Response(
        {
            "type": "about:blank",
            "title": title,
            "status": status,
            "detail": detail,
            "instance": request.url.path,
        },
        status_code=status,
        media_type=PROBLEM,
    )


def _api_error(request: Request[object, object, State], exc: ApiError) -> Response[dict[str, object]]:
    return _problem(request, exc.status_code, exc.title, str(exc))


def _http_error(request: Request[object, object, State], exc: HTTPException) -> Response[dict[str, object]]:
    detail = exc.detail
    if exc.extra:
        detail = f"{detail}: {exc.extra}"
    return _problem(
        request, exc.status_code, "Request error" if exc.status_code < 500 else "Server error", str(detail)
    )


@get("/healthz")
async def healthz() -> Health:
    return Health(status="ok")


@get("/api/runs")
async def get_runs(
    db: NamedDependency[AsyncConnectionPool],
    limit: Annotated[int, Parameter(ge=1, le=500)] = 50,
    offset: Annotated[int, Parameter(ge=0)] = 0,
) -> RunPage:
    async with db.connection() as conn:
        return await list_runs(conn, limit, offset)


@get("/readyz")
async def readyz(db: NamedDependency[AsyncConnectionPool]) -> Response[Health]:
    """Ready when the database answers (503 otherwise, with the reason)."""
    try:
        async with db.connection(timeout=2) as conn:
            await conn.execute("SELECT 1")
    except Exception as exc:
        return Response(Health(status="unavailable", checks={"database": str(exc)[:200]}), status_code=503)
    return Response(Health(status="ok", checks={"database": "ok"}))


@get("/api/runs/{run_id:uuid}")
async def get_run(db: NamedDependency[AsyncConnectionPool], run_id: FromPath[UUID]) -> RunDetail:
    async with db.connection() as conn:
        return await run_detail(conn, run_id)


@get("/api/runs/{run_id:uuid}/timeseries")
async def get_run_timeseries(
    db: NamedDependency[AsyncConnectionPool],
    run_id: FromPath[UUID],
    bucket: Annotated[float, QueryParameter(gt=0, le=86400, description="Bucket width in seconds.")] = 1.0,
) -> TimeSeries:
    async with db.connection() as conn:
        return await run_timeseries(conn, run_id, bucket)


@get("/api/runs/{run_id:uuid}/requests")
async def get_run_requests(db: NamedDependency[AsyncConnectionPool], run_id: FromPath[UUID]) -> RequestPage:
    async with db.connection() as conn:
        return await run_requests(conn, run_id)


@get("/api/campaigns")
async def get_campaigns(
    db: NamedDependency[AsyncConnectionPool],
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
    offset: Annotated[int, QueryParameter(ge=0)] = 0,
) -> list[CampaignOut]:
    async with db.connection() as conn:
        return await list_campaigns(conn, limit, offset)


@get("/api/campaigns/{campaign_id:uuid}")
async def get_campaign(db: NamedDependency[AsyncConnectionPool], campaign_id: FromPath[UUID]) -> CampaignDetail:
    async with db.connection() as conn:
        return await campaign_detail(conn, campaign_id)


@get("/api/runners")
async def get_runners(db: NamedDependency[AsyncConnectionPool]) -> list[RunnerOut]:
    async with db.connection() as conn:
        return await list_runners(conn)


@get("/api/leaderboard")
async def get_leaderboard(
    db: NamedDependency[AsyncConnectionPool],
    task: FromQuery[str | None] = None,
    model: FromQuery[str | None] = None,
    gpu: FromQuery[str | None] = None,
    backend: FromQuery[str | None] = None,
    precision: FromQuery[str | None] = None,
    pool: FromQuery[str | None] = None,
    max_itl_ms: Annotated[float | None, QueryParameter(gt=0)] = None,
    itl_percentile: FromQuery[Percentile] = "p99",
    max_ttft_ms: Annotated[float | None, QueryParameter(gt=0)] = None,
    ttft_percentile: FromQuery[Percentile] = "p99",
    max_power_w: Annotated[float | None, QueryParameter(gt=0)] = None,
) -> Leaderboard:
    """Per model, the lowest-J/token configuration meeting the constraints; every configuration's
    point for a time-energy Pareto chart (latency = the chosen ITL percentile)."""
    filters = Filters(task=task, model=model, gpu=gpu, backend=backend, precision=precision, pool=pool)
    constraints = Constraints(
        max_itl_ms=max_itl_ms,
        itl_percentile=itl_percentile,
        max_ttft_ms=max_ttft_ms,
        ttft_percentile=ttft_percentile,
        max_power_w=max_power_w,
    )
    async with db.connection() as conn:
        return await leaderboard(conn, filters, constraints)


def create_app(settings: ApiSettings | None = None) -> Litestar:
    settings = settings or ApiSettings()
    pool = AsyncConnectionPool(
        settings.database_url, open=False, min_size=1, max_size=settings.db_pool_max_size
    )

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await pool.open()
        try:
            yield
        finally:
            await pool.close()

    def provide_db() -> AsyncConnectionPool:
        return pool

    return Litestar(
        route_handlers=[
            healthz,
            readyz,
            get_runs,
            get_run,
            get_run_timeseries,
            get_run_requests,
            get_campaigns,
            get_campaign,
            get_runners,
            get_leaderboard,
        ],
        dependencies={"db": Provide(provide_db, sync_to_thread=False)},
        lifespan=[lifespan],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error},
        openapi_config=OpenAPIConfig(title="llem API", version="0.1.0", path="/schema"),
    )
