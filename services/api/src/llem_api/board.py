"""The leaderboard endpoints, answered from the runs cache, with ETags from its generation.

While the cache listens for changes, an answer for given filters and constraints can only change
when the generation moves, so `W/"<process>-<generation>-<key>"` is a validator that costs
nothing: a client revalidating an unchanged leaderboard gets its 304 before anything is computed
or encoded. The process id part keeps two API processes' generations apart. While the cache is off
(no LISTEN connection), no such tag is set and the generic ETag middleware hashes the body.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

import msgspec
from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery
from psycopg_pool import AsyncConnectionPool

from llem_api.cache import RunsCache
from llem_api.http import matches
from llem_api.leaderboard import (
    Configurations,
    Constraints,
    Filters,
    Leaderboard,
    Percentile,
    all_configurations,
    leaderboard,
)
from llem_api.params import PositiveLimit, Text
from llem_api.problems import cacheable

PROCESS = secrets.token_hex(4)
T = TypeVar("T", Leaderboard, Configurations)


async def _cached(
    request: Request[object, object, State], key: tuple[object, ...], compute: Callable[[], Awaitable[T]]
) -> Response[T]:
    cache: RunsCache[object] = request.app.state.runs_cache
    headers = {"Cache-Control": "no-cache"}
    if cache.listening and cache.max_entries:
        digest = hashlib.blake2b(msgspec.json.encode(key), digest_size=8).hexdigest()
        etag = f'W/"{PROCESS}-{cache.generation}-{digest}"'  # taken before computing: never newer
        headers["ETag"] = etag
        if matches(request.headers.get("if-none-match"), etag):
            return cast(Response[T], Response(content=None, status_code=304, headers=headers))
    value = cast(T, await cache.get(key, compute))
    return Response(value, headers=headers)


def provide_filters(
    task: Text = None,
    model: Text = None,
    gpu: Text = None,
    backend: Text = None,
    precision: Text = None,
    pool: Text = None,
) -> Filters:
    """The filters both endpoints take, as query parameters (`task` is the prompt set)."""
    return Filters(task=task, model=model, gpu=gpu, backend=backend, precision=precision, pool=pool)


FILTERS = {"filters": Provide(provide_filters, sync_to_thread=False)}


@get("/api/leaderboard", responses=cacheable(400), dependencies=FILTERS)
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

    return await _cached(request, ("leaderboard", filters, constraints), compute)


@get("/api/configurations", responses=cacheable(400), dependencies=FILTERS)
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

    return await _cached(request, ("configurations", filters), compute)


HANDLERS = [get_leaderboard, get_configurations]
