"""Operations: liveness and readiness (for orchestrators and load balancers) and Prometheus metrics."""

from __future__ import annotations

from litestar import Response, Router, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.plugins.prometheus import PrometheusController
from psycopg_pool import AsyncConnectionPool

from llem_api.dto import Health


class Metrics(PrometheusController):
    """Prometheus text at /metrics: operations, not part of the API's documented contract."""

    include_in_schema = False


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


router = Router(path="/", route_handlers=[healthz, readyz, Metrics])
