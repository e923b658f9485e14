"""The ingest service's error hierarchy."""

from __future__ import annotations

import re


class IngestError(Exception):
    """Base of every error ingest raises on purpose."""


class Undeliverable(IngestError):
    """An event that can never be stored as it is: it goes to the dead-letter table."""


class DatabaseUnreachable(IngestError):
    """PostgreSQL did not accept a connection: the message is one line naming the URL (no password)."""

    @classmethod
    def of(cls, url: str, exc: BaseException) -> DatabaseUnreachable:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return cls(
            f"cannot reach PostgreSQL at {redact(url)}: {first} (check: is PostgreSQL running and "
            "reachable from here; LLEM_DATABASE_URL or --database: host, port, database, user, password)"
        )


def redact(url: str) -> str:
    """A database URL or DSN as it may be shown: the password replaced by ***."""
    url = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)
    return re.sub(r"(password=)\S+", r"\1***", url)
