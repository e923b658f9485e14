"""Versioned SQL migrations, applied once each under an advisory lock. Idempotent."""

from __future__ import annotations

import importlib.resources
import logging

import psycopg

from llem_ingest.errors import DatabaseUnreachable

log = logging.getLogger("llem.ingest.migrate")
_LOCK_ID = 0x11E0_0001
CONNECT_TIMEOUT_S = 5


def _migrations() -> list[tuple[int, str, str]]:
    files = importlib.resources.files("llem_ingest") / "migrations"
    out = []
    for entry in files.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            out.append((version, entry.name, entry.read_text()))
    return sorted(out)


def migrate(conninfo: str) -> list[str]:
    """Apply pending migrations; returns the names applied."""
    applied: list[str] = []
    try:
        conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.OperationalError as exc:
        raise DatabaseUnreachable.of(conninfo, exc) from None
    with conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_ID,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            for version, name, sql in _migrations():
                if version in done:
                    continue
                with conn.transaction():
                    conn.execute(sql.encode())
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, name)
                    )
                log.info("applied migration %s", name)
                applied.append(name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_ID,))
    return applied
