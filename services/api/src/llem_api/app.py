"""Litestar app factory. The lifespan owns the database pool, the runs cache and the NATS
connection (handlers get them by name: `deps`); errors become RFC 9457 problems (`problems`); routes
live in `controllers`, one router per domain; the built web app, when configured, is served at `/`
(`webapp`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from litestar import Litestar, Request
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.handlers import HTTPRouteHandler
from litestar.middleware import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components
from litestar.plugins.prometheus import PrometheusConfig
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler, Middleware
from psycopg_pool import AsyncConnectionPool

from llem_api.auth import BEARER_SCHEME, SECURITY
from llem_api.cache import RunsCache, listen
from llem_api.controllers import campaigns, health, leaderboard, live, runners, runs
from llem_api.deps import DEPENDENCIES
from llem_api.errors import ApiError, BadRequest
from llem_api.http import ETagMiddleware, GzipMiddleware
from llem_api.live import Hub
from llem_api.problems import api_error, http_error, unexpected
from llem_api.settings import ApiSettings
from llem_api.webapp import web_routes
from llem_control.connection import connect
from llem_control.errors import NatsUnreachable
from llem_schemas.subjects import Layout

log = logging.getLogger("llem.api")


async def _refuse_nul(request: Request[object, object, State]) -> None:
    """PostgreSQL text cannot hold NUL: refuse it in any query value up front, with a clear 400."""
    if any("\x00" in value for _, value in request.query_params.multi_items()) or "\x00" in request.url.path:
        raise BadRequest("NUL characters are not allowed in the path or the query")


def _operation_id(handler: HTTPRouteHandler, *_: object) -> str:
    """`get_runs` -> `getRuns`: the handler's own name, as generated clients show it."""
    first, *rest = handler.handler_name.split("_")
    return first + "".join(word.title() for word in rest)


def _lifespan(
    settings: ApiSettings, pool: AsyncConnectionPool
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """The app's resources: the database pool, the runs cache and its listener, the NATS link."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await pool.open()
        app.state.pool = pool
        cache: RunsCache[object] = RunsCache(settings.leaderboard_cache_entries)
        app.state.runs_cache = cache
        listener = (
            asyncio.create_task(listen(settings.database_url, cache))
            if settings.leaderboard_cache_entries
            else None
        )
        app.state.layout = Layout(settings.prefix, runner_ttl_s=settings.runner_ttl_s)
        nc = None
        try:
            nc = await connect(settings, name="llem-api")
            app.state.hub = Hub(nc)
        except NatsUnreachable as exc:  # reads still work; live streams answer 503
            log.warning("%s; live streams are off", exc)
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

    return lifespan


def _middleware(settings: ApiSettings) -> list[Middleware]:
    """gzip outside the ETags (see `http`); request counts and latencies per route template, at
    /metrics; writes rate-limited per client."""
    prometheus = PrometheusConfig(
        app_name="llem_api", prefix="llem_api", group_path=True, exclude=["/metrics"]
    )
    return [
        DefineMiddleware(GzipMiddleware, minimum_size=settings.gzip_minimum_bytes),
        ETagMiddleware,
        prometheus.middleware,
        RateLimitConfig(
            rate_limit=("minute", settings.write_rate_per_minute),
            check_throttle_handler=lambda request: request.method != "GET",
        ).middleware,
    ]


def _files(settings: ApiSettings) -> list[ControllerRouterHandler]:
    """The static export (GET /export/leaderboard.json, ...: what a static host does) and the web
    app, each when configured."""
    static: list[ControllerRouterHandler] = (
        [create_static_files_router(path="/export", directories=[settings.export_dir], name="export")]
        if settings.export_dir is not None
        else []
    )
    return [*static, *(web_routes(settings.web_dir) if settings.web_dir is not None else [])]


def _openapi() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="llem API",
        version="0.1.0",
        path="/schema",
        operation_id_creator=_operation_id,
        description="Energy of LLM inference, measured on real hardware: leaderboard, runs, "
        "campaigns, fleet and live streams. Errors are RFC 9457 problem details.",
        components=Components(security_schemes={SECURITY: BEARER_SCHEME}),
    )


def create_app(settings: ApiSettings | None = None) -> Litestar:
    """The API (and, when configured, the export and the web app) for these settings."""
    settings = settings or ApiSettings()
    pool = AsyncConnectionPool(
        settings.database_url, open=False, min_size=1, max_size=settings.db_pool_max_size
    )
    return Litestar(
        route_handlers=[  # in the order the OpenAPI document lists them
            health.router,
            runs.router,
            campaigns.router,
            runners.router,
            leaderboard.router,
            live.router,
            campaigns.actions,
            *_files(settings),
        ],
        request_max_body_size=settings.max_body_bytes,
        cors_config=CORSConfig(allow_origins=settings.cors_origins) if settings.cors_origins else None,
        middleware=_middleware(settings),
        dependencies=DEPENDENCIES,
        lifespan=[_lifespan(settings, pool)],
        exception_handlers={ApiError: api_error, HTTPException: http_error, Exception: unexpected},
        before_request=_refuse_nul,
        openapi_config=_openapi(),
    )
