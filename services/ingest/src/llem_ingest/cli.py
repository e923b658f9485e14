"""`llem-ingest run|migrate`: every setting from LLEM_* variables; the shared flags override them."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from llem_control.errors import NatsUnreachable
from llem_control.options import entry_point, nats_options, one_line_errors
from llem_ingest.errors import DatabaseUnreachable
from llem_ingest.settings import IngestSettings

app = typer.Typer(
    help="llem ingest: events and metrics from JetStream into TimescaleDB.", no_args_is_help=True
)
DatabaseOption = Annotated[
    str | None, typer.Option("--database", help="PostgreSQL URL (env: LLEM_DATABASE_URL).")
]
PrefixOption = Annotated[str | None, typer.Option(help="Deployment subject prefix (env: LLEM_PREFIX).")]


def _settings(nats: dict[str, Any], database: str | None, prefix: str | None = None) -> IngestSettings:
    given: dict[str, Any] = {"database_url": database, "prefix": prefix}
    return IngestSettings(**nats, **{k: v for k, v in given.items() if v is not None})


@app.command()
def migrate(database: DatabaseOption = None) -> None:
    """Apply the pending database migrations (idempotent)."""
    from llem_ingest.migrate import migrate as apply

    with one_line_errors(DatabaseUnreachable):
        for name in apply(_settings({}, database).database_url):
            typer.echo(f"applied {name}")


@app.command()
@nats_options
def run(nats: dict[str, Any], database: DatabaseOption = None, prefix: PrefixOption = None) -> None:
    """Consume the events and metrics streams and write them, once each, into the database."""
    from llem_ingest.app import create_app

    app_, _ = create_app(_settings(nats, database, prefix))
    with one_line_errors(NatsUnreachable, DatabaseUnreachable):
        asyncio.run(app_.run())


def main(argv: list[str] | None = None) -> int:
    return entry_point(app, argv)


if __name__ == "__main__":
    raise SystemExit(main())
