"""The fleet: every runner known, alive or gone (by its last heartbeat and the runner TTL)."""

from __future__ import annotations

from litestar import Router, get
from litestar.di import NamedDependency
from psycopg_pool import AsyncConnectionPool

from llem_api.dto import RunnerOut
from llem_api.problems import cacheable
from llem_api.queries import list_runners
from llem_schemas.subjects import Layout


@get("/", responses=cacheable())
async def get_runners(
    db: NamedDependency[AsyncConnectionPool], layout: NamedDependency[Layout]
) -> list[RunnerOut]:
    async with db.connection() as conn:
        return await list_runners(conn, layout.runner_ttl_s)


router = Router(path="/api/runners", route_handlers=[get_runners])
