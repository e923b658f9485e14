"""The leaderboard cache: answers kept until PostgreSQL says the runs table changed (LISTEN/NOTIFY),
shared by concurrent misses, and off while the LISTEN connection is down."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import psycopg
from litestar.testing import AsyncTestClient

from llem.devstack import NatsServer
from llem_api.app import create_app
from llem_api.cache import RunsCache
from llem_api.settings import ApiSettings
from llem_ingest.store import write_events
from tests import events
from tests.natsauth import SeedOf
from tests.waiting import wait_for

CID = uuid.uuid4()


async def _store(url: str, *runs: list[Any]) -> None:
    """Write runs with ingest's own code, one transaction (one notification)."""
    async with await psycopg.AsyncConnection.connect(url) as conn, conn.transaction():
        await write_events(conn, [e for run in runs for e in run])


def _run(model: str, config: str, j_per_token: float) -> list[Any]:
    return events.measured_run(events.leaderboard_job(CID, model, config), j_per_token, 40, 100)


async def test_single_flight_and_bounded() -> None:
    cache: RunsCache[int] = RunsCache(max_entries=2)
    cache.listening = True
    calls = 0
    gate = asyncio.Event()

    async def compute() -> int:
        nonlocal calls
        calls += 1
        await gate.wait()
        return calls

    waiting = [asyncio.create_task(cache.get("a", compute)) for _ in range(20)]
    await asyncio.sleep(0.05)
    waiting[0].cancel()  # one client leaves: the others still get the answer
    gate.set()
    results = await asyncio.gather(*waiting[1:])
    assert calls == 1 and set(results) == {1}, "20 concurrent misses, one computation"
    assert await cache.get("a", compute) == 1 and calls == 1, "then a hit"
    await cache.get("b", compute)
    await cache.get("c", compute)
    assert calls == 3
    await cache.get("a", compute)
    assert calls == 4, "three keys in a cache of two: the least recently used went out"

    cache.invalidate()
    await cache.get("c", compute)
    assert calls == 5, "a new generation recomputes"
    cache.listening = False
    await cache.get("c", compute)
    await cache.get("c", compute)
    assert calls == 7, "without LISTEN nothing is cached"


async def test_leaderboard_follows_every_committed_change(
    seed_of: SeedOf, database_url: str, nats_server: NatsServer
) -> None:
    await _store(database_url, _run("A", "a1", 0.5))
    app = create_app(
        ApiSettings(
            nats_nkey_seed=seed_of("api", "llem"), database_url=database_url, nats_url=nats_server.url
        )
    )
    async with AsyncTestClient(app=app, timeout=30) as client:
        cache: RunsCache[Any] = app.state.runs_cache
        await wait_for(lambda: cache.listening, 10, "the LISTEN connection")

        async def best() -> dict[str, float]:
            resp = await client.get("/api/leaderboard")
            assert resp.status_code == 200, resp.text
            return {r["model"]: r["energy_per_output_token_j"] for r in resp.json()["best"]}

        assert await best() == {"A": 0.5}
        misses = cache.misses
        assert await best() == {"A": 0.5}
        assert (cache.hits, cache.misses) == (1, misses), "the second read is served from the cache"

        await _store(database_url, _run("A", "a2", 0.25), _run("B", "b1", 0.75))
        await wait_for(lambda: not cache._entries, 5, "the notification to empty the cache")
        assert await best() == {"A": 0.25, "B": 0.75}, "a committed change is in the next answer"

        # the LISTEN connection is killed: caching stops at once, answers stay right, then it comes back
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as admin:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND query LIKE 'LISTEN%%'"
            )
        await wait_for(lambda: not cache.listening, 20, "the lost connection to be noticed")
        await _store(database_url, _run("B", "b2", 0.125))
        assert await best() == {"A": 0.25, "B": 0.125}
        await wait_for(lambda: cache.listening, 20, "the LISTEN connection back")
        assert await best() == {"A": 0.25, "B": 0.125}
        hits = cache.hits
        assert await best() == {"A": 0.25, "B": 0.125} and cache.hits == hits + 1
        metrics = (await client.get("/metrics")).text
        assert 'llem_api_runs_cache_lookups_total{result="hit"}' in metrics
        assert "llem_api_runs_cache_listening 1.0" in metrics
