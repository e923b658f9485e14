"""The leaderboard's answers, from the runs cache, with ETags from its generation (the routes are in
`controllers.leaderboard`).

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
from litestar import Request, Response
from litestar.datastructures import State
from litestar.di import Provide

from llem_api.cache import RunsCache
from llem_api.http import matches
from llem_api.leaderboard import Configurations, Filters, Leaderboard
from llem_api.params import Text

PROCESS = secrets.token_hex(4)
T = TypeVar("T", Leaderboard, Configurations)


async def cached(
    request: Request[object, object, State], key: tuple[object, ...], compute: Callable[[], Awaitable[T]]
) -> Response[T]:
    """`compute()`'s value for `key`, from the cache when it holds it; 304 when the client's is current."""
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
