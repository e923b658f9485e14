"""Results derived from the runs table, kept until the runs table changes.

PostgreSQL notifies `llem_runs_changed` after every committed transaction that touched `runs`
(trigger of migration 0007; notifications are sent at commit, so a reader that hears one sees the
change). A listener task holds one connection with LISTEN and bumps the cache's generation on each
notification; an entry computed under an older generation is never served. Without a live LISTEN
connection (database down, connection lost) nothing is cached and every request computes, so a
missed notification can never leave a stale answer in place.

Concurrent misses on one key share one computation (single flight), and the number of entries is
bounded (least recently used out), since keys come from request parameters.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

import psycopg
from prometheus_client import Counter, Gauge
from psycopg.conninfo import make_conninfo

log = logging.getLogger("llem.api.cache")
CHANNEL = "llem_runs_changed"
V = TypeVar("V")
LOOKUPS = Counter("llem_api_runs_cache_lookups", "Cache lookups by result (hit, miss, off).", ["result"])
INVALIDATIONS = Counter("llem_api_runs_cache_invalidations", "Times the cache was emptied (runs changed).")
LISTENING = Gauge("llem_api_runs_cache_listening", "1 while the LISTEN connection is up (caching on).")


class RunsCache(Generic[V]):
    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self.generation = 0
        self.listening = False
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Hashable, tuple[int, V]] = OrderedDict()
        self._inflight: dict[tuple[Hashable, int], asyncio.Task[V]] = {}

    def invalidate(self) -> None:
        self.generation += 1
        self._entries.clear()
        INVALIDATIONS.inc()

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[V]]) -> V:
        if not self.listening or self.max_entries == 0:
            self.misses += 1
            LOOKUPS.labels("off").inc()
            return await compute()
        generation = self.generation
        entry = self._entries.get(key)
        if entry is not None and entry[0] == generation:
            self._entries.move_to_end(key)
            self.hits += 1
            LOOKUPS.labels("hit").inc()
            return entry[1]
        self.misses += 1
        LOOKUPS.labels("miss").inc()
        task = self._inflight.get((key, generation))
        if task is None:
            task = asyncio.ensure_future(compute())
            self._inflight[(key, generation)] = task
            task.add_done_callback(lambda t: self._done(key, generation, t))
        # shielded: a client that goes away does not cancel the others' computation
        return await asyncio.shield(task)

    def _done(self, key: Hashable, generation: int, task: asyncio.Task[V]) -> None:
        self._inflight.pop((key, generation), None)
        if task.cancelled() or task.exception() is not None:
            return
        if self.listening and generation == self.generation:
            self._entries[key] = (generation, task.result())
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


# A LISTEN connection is idle for long stretches: TCP keepalives make a connection that died
# silently (host gone, network cut) fail within about 25 s, which turns the cache off.
KEEPALIVES: dict[str, int] = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}


async def listen(conninfo: str, cache: RunsCache[V], retry_s: float = 2.0) -> None:
    """Keep a LISTEN connection for `cache` until cancelled; reconnects after any failure.

    The connection runs no other command while it listens (psycopg can drop notifications that
    arrive during another command, psycopg issue 962), so liveness comes from TCP keepalives rather
    than a periodic query.
    """
    while True:
        try:
            dsn = make_conninfo(conninfo, **KEEPALIVES)
            async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                cache.invalidate()  # anything cached before this moment may have missed a change
                cache.listening = True
                LISTENING.set(1)
                log.info("leaderboard cache on (LISTEN %s)", CHANNEL)
                async for _ in conn.notifies():
                    cache.invalidate()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if cache.listening:
                log.warning("leaderboard cache off: LISTEN connection lost (%s)", exc)
        finally:
            cache.listening = False
            LISTENING.set(0)
            cache.invalidate()
        await asyncio.sleep(retry_s)
