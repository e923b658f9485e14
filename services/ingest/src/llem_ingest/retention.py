"""Raw-sample retention on both TimescaleDB editions, off by default.

With the Timescale License a retention policy could do this; the Apache-2 build (Debian's) has no
policies, so ingest runs `drop_chunks` itself on a schedule: chunks of `metric_samples` entirely
older than `retention_days` are dropped (runs and their summaries stay). Timescale-License features
are only ever used when `timescaledb.license` says they exist; nothing here depends on them.
"""

from __future__ import annotations

import asyncio
import logging

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

log = logging.getLogger("llem.ingest.retention")


async def license_of(conn: AsyncConnection) -> str:
    """'apache' (Apache-2 build) or 'timescale' (community/Timescale License)."""
    row = await (await conn.execute("SHOW timescaledb.license")).fetchone()
    return str(row[0]) if row else "apache"


async def drop_old_samples(conn: AsyncConnection, days: float) -> int:
    """Drop whole chunks older than `days`; returns how many were dropped."""
    cur = await conn.execute(
        "SELECT drop_chunks('metric_samples', older_than => now() - make_interval(secs => %s))",
        (days * 86400,),
    )
    dropped = len(await cur.fetchall())
    await conn.execute(
        "DELETE FROM metric_batches b WHERE NOT EXISTS"
        " (SELECT 1 FROM metric_samples s WHERE s.run_id = b.run_id LIMIT 1)"
        " AND b.stored_at < now() - make_interval(secs => %s)",
        (days * 86400,),
    )
    return dropped


class RetentionJob:
    def __init__(self, pool: AsyncConnectionPool, days: float | None, interval_s: float) -> None:
        self.pool, self.days, self.interval_s = pool, days, interval_s

    async def run(self) -> None:
        if self.days is None:
            return  # off by default: raw samples are kept
        while True:
            try:
                async with self.pool.connection() as conn:
                    dropped = await drop_old_samples(conn, self.days)
                if dropped:
                    log.info(
                        "retention: dropped %d chunk(s) of samples older than %g days", dropped, self.days
                    )
            except Exception as exc:
                log.warning("retention run failed (%s); trying again later", exc)
            await asyncio.sleep(self.interval_s)
