"""Litestar app factory. The lifespan owns the database pool; errors become RFC 9457 problems."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from litestar import Litestar, Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.params import Parameter
from psycopg_pool import AsyncConnectionPool

from llem_api.dto import Health, RunPage
from llem_api.errors import ApiError
from llem_api.queries import list_runs
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
        route_handlers=[healthz, get_runs],
        dependencies={"db": Provide(provide_db, sync_to_thread=False)},
        lifespan=[lifespan],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error},
        openapi_config=OpenAPIConfig(title="llem API", version="0.1.0", path="/schema"),
    )
