"""Litestar app factory. The lifespan owns the database pool; errors become RFC 9457 problems."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal
from uuid import UUID

import nats
from litestar import Litestar, Request, Response, get, post
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi import OpenAPIConfig
from litestar.params import FromPath, FromQuery, JSONBody, Parameter, QueryParameter
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.response import ServerSentEvent, ServerSentEventMessage, Stream
from litestar.static_files import create_static_files_router
from nats.aio.client import Client as NatsClient
from nats.js.api import DeliverPolicy
from psycopg_pool import AsyncConnectionPool

from llem_api.cache import RunsCache, listen
from llem_api.dto import (
    CampaignDetail,
    CampaignOut,
    CancelIn,
    Health,
    RequestPage,
    RunDetail,
    RunnerOut,
    RunPage,
    SubmittedOut,
    TimeSeries,
)
from llem_api.errors import ApiError, BadRequest, Forbidden, NotFound, Unauthorized, Unavailable
from llem_api.leaderboard import Constraints, Filters, Leaderboard, Percentile, leaderboard
from llem_api.live import Hub, TopicSpec
from llem_api.queries import (
    CSV_TABLES,
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
from llem_api.settings import ApiSettings
from llem_api.tokens import authenticate
from llem_scheduler.errors import CampaignNotFound, SpecError
from llem_scheduler.expand import expand
from llem_scheduler.spec import validate_spec
from llem_scheduler.submit import cancel_campaign, submit_campaign
from llem_schemas.subjects import Layout

PROBLEM = "application/problem+json"
MAX_OFFSET = 10_000_000  # paging deeper is a bug in the client, and PostgreSQL offsets are bigint
log = logging.getLogger("llem.api")


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


async def _refuse_nul(request: Request[object, object, State]) -> None:
    """PostgreSQL text cannot hold NUL: refuse it in any query value up front, with a clear 400."""
    if any("\x00" in value for _, value in request.query_params.multi_items()) or "\x00" in request.url.path:
        raise BadRequest("NUL characters are not allowed in the path or the query")


def _unexpected(request: Request[object, object, State], exc: Exception) -> Response[dict[str, object]]:
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    return _problem(request, 500, "Server error", "an unexpected error; it is logged on the server")


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
    offset: Annotated[int, Parameter(ge=0, le=MAX_OFFSET)] = 0,
    campaign_id: FromQuery[UUID | None] = None,
    model: FromQuery[str | None] = None,
    status: FromQuery[Literal["running", "completed", "failed"] | None] = None,
    include_superseded: FromQuery[bool] = True,
    sort: Annotated[
        str, QueryParameter(description="started_at, energy_per_output_token_j, ...; -key: descending")
    ] = "-started_at",
) -> RunPage:
    async with db.connection() as conn:
        return await list_runs(conn, limit, offset, campaign_id, model, status, include_superseded, sort)


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
    offset: Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET)] = 0,
) -> list[CampaignOut]:
    async with db.connection() as conn:
        return await list_campaigns(conn, limit, offset)


@get("/api/campaigns/{campaign_id:uuid}")
async def get_campaign(
    db: NamedDependency[AsyncConnectionPool], campaign_id: FromPath[UUID]
) -> CampaignDetail:
    async with db.connection() as conn:
        return await campaign_detail(conn, campaign_id)


@get("/api/runners")
async def get_runners(db: NamedDependency[AsyncConnectionPool]) -> list[RunnerOut]:
    async with db.connection() as conn:
        return await list_runners(conn)


def _last_event_id(request: Request[object, object, State]) -> int | None:
    raw = request.headers.get("last-event-id")
    if raw is None:
        return None
    if not raw.isdigit():
        raise BadRequest(f"Last-Event-ID must be a non-negative integer, got {raw!r}")
    return int(raw)


def _sse(request: Request[object, object, State], spec: TopicSpec) -> ServerSentEvent:
    hub: Hub | None = request.app.state.get("hub")
    if hub is None:
        raise Unavailable("live streams need NATS, which this API process could not reach at start-up")
    last = _last_event_id(request)

    async def messages() -> AsyncIterator[ServerSentEventMessage]:
        async for item in hub.stream(spec, last):
            yield ServerSentEventMessage(data=item.data, id=str(item.id), event=item.event)

    return ServerSentEvent(messages())


@get("/api/live/runs/{run_id:uuid}")
async def live_run(request: Request[object, object, State], run_id: FromPath[UUID]) -> ServerSentEvent:
    """One run's metric batches: recent history first, then live."""
    layout: Layout = request.app.state.layout
    subject = f"{layout.prefix}.metrics.*.{run_id}"
    return _sse(request, TopicSpec(f"run:{run_id}", (subject,), layout.metrics_stream))


@get("/api/live/campaigns/{campaign_id:uuid}")
async def live_campaign(
    request: Request[object, object, State], campaign_id: FromPath[UUID]
) -> ServerSentEvent:
    """One campaign: progress, job states and its runs' lifecycle (latest per subject, then live)."""
    layout: Layout = request.app.state.layout
    p = layout.prefix
    subjects = (f"{p}.events.campaign.{campaign_id}.>", f"{p}.events.job.{campaign_id}.*.status",
                f"{p}.events.run.{campaign_id}.>")  # fmt: skip
    return _sse(
        request,
        TopicSpec(f"campaign:{campaign_id}", subjects, layout.events_stream, DeliverPolicy.LAST_PER_SUBJECT),
    )


@get("/api/live/fleet")
async def live_fleet(request: Request[object, object, State]) -> ServerSentEvent:
    """Runner heartbeats (the latest of each runner first, then live)."""
    layout: Layout = request.app.state.layout
    subjects = (f"{layout.prefix}.events.runner.*.heartbeat",)
    return _sse(request, TopicSpec("fleet", subjects, layout.events_stream, DeliverPolicy.LAST_PER_SUBJECT))


async def _principal(request: Request[object, object, State], scope: str) -> None:
    header = request.headers.get("authorization", "")
    kind, _, token = header.partition(" ")
    if kind.lower() != "bearer" or not token:
        raise Unauthorized("this endpoint needs `Authorization: Bearer <token>` (llem-api token create)")
    pool: AsyncConnectionPool = request.app.state.pool
    async with pool.connection() as conn:
        principal = await authenticate(conn, token.strip())
    if principal is None:
        raise Unauthorized("the token is unknown, malformed or revoked")
    if scope not in principal.scopes:
        raise Forbidden(f"token {principal.name!r} lacks the scope {scope!r}")


def _nats(request: Request[object, object, State]) -> NatsClient:
    hub: Hub | None = request.app.state.get("hub")
    if hub is None:
        raise Unavailable("campaign writes need NATS, which this API process could not reach at start-up")
    return hub.nc


@post("/api/campaigns", status_code=201)
async def post_campaign(
    request: Request[object, object, State], data: JSONBody[dict[str, Any]]
) -> SubmittedOut:
    """Submit a campaign spec (the JSON form of a campaign file). Validated and expanded by the
    scheduler's own code; nothing is published on any error; a resubmit queues nothing new."""
    await _principal(request, "campaigns:write")
    try:
        spec = validate_spec(data, "request body")
        expansion = expand(spec)
    except SpecError as exc:
        raise BadRequest(str(exc)) from exc
    layout: Layout = request.app.state.layout
    result = await submit_campaign(_nats(request).jetstream(), layout, spec, expansion)
    return SubmittedOut(
        campaign_id=result.campaign_id,
        queued=result.queued,
        already=result.already,
        dropped=[{"config": d.config, "reason": d.reason} for d in expansion.dropped],
    )


@post("/api/campaigns/{campaign_id:uuid}/cancel", status_code=200)
async def post_cancel(
    request: Request[object, object, State], campaign_id: FromPath[UUID], data: JSONBody[CancelIn]
) -> dict[str, str]:
    await _principal(request, "campaigns:write")
    layout: Layout = request.app.state.layout
    try:
        await cancel_campaign(_nats(request).jetstream(), layout, campaign_id, data.reason)
    except CampaignNotFound as exc:
        raise NotFound(str(exc)) from exc
    return {"campaign_id": str(campaign_id), "status": "cancelled"}


@get("/api/runs/{run_id:uuid}/download/{what:str}", media_type="text/csv")
async def get_run_csv(
    db: NamedDependency[AsyncConnectionPool], run_id: FromPath[UUID], what: FromPath[str]
) -> Stream:
    """Raw downloads: `download/samples.csv` (every metric sample of the run) or `download/requests.csv`."""
    if what not in CSV_TABLES:
        raise NotFound(f"no download {what!r}; there are {sorted(CSV_TABLES)}")
    async with db.connection() as conn:
        window = await run_window(conn, run_id)
    return Stream(
        csv_rows(db, CSV_TABLES[what], run_id, window),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{run_id}-{what}"'},
    )


@get("/api/leaderboard")
async def get_leaderboard(
    request: Request[object, object, State],
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

    async def compute() -> Leaderboard:
        async with db.connection() as conn:
            return await leaderboard(conn, filters, constraints)

    cache: RunsCache[Leaderboard] = request.app.state.leaderboard_cache
    return await cache.get((filters, constraints), compute)


def create_app(settings: ApiSettings | None = None) -> Litestar:
    settings = settings or ApiSettings()
    # request counts and latencies per route template, at /metrics
    prometheus = PrometheusConfig(
        app_name="llem_api", prefix="llem_api", group_path=True, exclude=["/metrics"]
    )
    pool = AsyncConnectionPool(
        settings.database_url, open=False, min_size=1, max_size=settings.db_pool_max_size
    )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await pool.open()
        app.state.pool = pool
        cache: RunsCache[Leaderboard] = RunsCache(settings.leaderboard_cache_entries)
        app.state.leaderboard_cache = cache
        listener = (
            asyncio.create_task(listen(settings.database_url, cache))
            if settings.leaderboard_cache_entries
            else None
        )
        app.state.layout = Layout(settings.prefix)
        nc = None
        try:
            # bounded: with unlimited reconnects nats-py would retry the first connect forever
            nc = await asyncio.wait_for(
                nats.connect(
                    settings.nats_url, max_reconnect_attempts=-1, connect_timeout=2, name="llem-api"
                ),
                timeout=5,
            )
            app.state.hub = Hub(nc)
        except Exception as exc:  # reads still work; live streams answer 503
            log.warning("NATS unreachable at start-up (%s): live streams are off", exc)
            app.state.hub = None
        try:
            yield
        finally:
            if listener is not None:
                listener.cancel()
                await asyncio.gather(listener, return_exceptions=True)
            if nc is not None:
                await nc.close()
            await pool.close()

    def provide_db() -> AsyncConnectionPool:
        return pool

    # the static export served as files (GET /export/leaderboard.json, ...): what a static host does
    static = (
        [create_static_files_router(path="/export", directories=[settings.export_dir], name="export")]
        if settings.export_dir is not None
        else []
    )

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
            live_run,
            live_campaign,
            live_fleet,
            post_campaign,
            post_cancel,
            get_run_csv,
            PrometheusController,
            *static,
        ],
        request_max_body_size=settings.max_body_bytes,
        cors_config=CORSConfig(allow_origins=settings.cors_origins) if settings.cors_origins else None,
        middleware=[
            prometheus.middleware,
            RateLimitConfig(
                rate_limit=("minute", settings.write_rate_per_minute),
                check_throttle_handler=lambda request: request.method != "GET",
            ).middleware,
        ],
        dependencies={"db": Provide(provide_db, sync_to_thread=False)},
        lifespan=[lifespan],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error, Exception: _unexpected},
        before_request=_refuse_nul,
        openapi_config=OpenAPIConfig(title="llem API", version="0.1.0", path="/schema"),
    )
