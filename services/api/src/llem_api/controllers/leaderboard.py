"""The leaderboard and the configurations it ranks, answered from the runs cache (`board`)."""

from __future__ import annotations

from litestar import Request, Response, Router, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromQuery
from psycopg_pool import AsyncConnectionPool

from llem_api.board import FILTERS, cached
from llem_api.leaderboard import (
    Configurations,
    Constraints,
    Filters,
    Leaderboard,
    Percentile,
    all_configurations,
    leaderboard,
)
from llem_api.params import PositiveLimit
from llem_api.problems import cacheable


@get("/leaderboard", responses=cacheable(400), dependencies=FILTERS)
async def get_leaderboard(
    request: Request[object, object, State],
    db: NamedDependency[AsyncConnectionPool],
    filters: NamedDependency[Filters],
    max_itl_ms: PositiveLimit = None,
    itl_percentile: FromQuery[Percentile] = "p99",
    max_ttft_ms: PositiveLimit = None,
    ttft_percentile: FromQuery[Percentile] = "p99",
    max_power_w: PositiveLimit = None,
) -> Response[Leaderboard]:
    """Per model, the lowest-J/token configuration meeting the constraints; every configuration's
    point for a time-energy Pareto chart (latency = the chosen ITL percentile)."""
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

    return await cached(request, ("leaderboard", filters, constraints), compute)


@get("/configurations", responses=cacheable(400), dependencies=FILTERS)
async def get_configurations(
    request: Request[object, object, State],
    db: NamedDependency[AsyncConnectionPool],
    filters: NamedDependency[Filters],
) -> Response[Configurations]:
    """Every configuration (the leaderboard's unit) matching the filters, with no constraint
    applied, and how many completed runs were left out because their energy was not measured."""

    async def compute() -> Configurations:
        async with db.connection() as conn:
            return await all_configurations(conn, filters)

    return await cached(request, ("configurations", filters), compute)


router = Router(path="/api", route_handlers=[get_leaderboard, get_configurations])
