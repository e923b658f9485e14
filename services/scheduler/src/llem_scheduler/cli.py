"""`llem-scheduler bootstrap [--pool NAME ...]` declares the JetStream layout;
`llem-scheduler run` follows the campaigns and keeps every job's state.

Every setting comes from LLEM_* variables (SchedulerSettings); the shared flags override them."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from llem_control.bootstrap import bootstrap as declare
from llem_control.connection import connect
from llem_control.errors import ControlError
from llem_control.options import entry_point, nats_options, one_line_errors
from llem_scheduler.settings import SchedulerSettings

app = typer.Typer(
    help="llem scheduler: declares the JetStream layout, turns campaigns into jobs and tracks them.",
    no_args_is_help=True,
)
PrefixOption = Annotated[str | None, typer.Option(help="Deployment subject prefix (env: LLEM_PREFIX).")]


def _settings(nats: dict[str, Any], prefix: str | None) -> SchedulerSettings:
    given: dict[str, Any] = {**nats, **({"prefix": prefix} if prefix else {})}
    return SchedulerSettings(**given)


async def _bootstrap(settings: SchedulerSettings, pools: list[str]) -> None:
    nc = await connect(settings, name="llem-scheduler")
    try:
        await declare(nc.jetstream(), settings.layout(), pools)
    finally:
        await nc.close()


def _run(main: Any) -> None:
    with one_line_errors(ControlError):  # NATS unreachable, a layout that cannot be declared
        asyncio.run(main)


@app.command()
@nats_options
def bootstrap(
    nats: dict[str, Any],
    pool: Annotated[
        list[str] | None, typer.Option("--pool", help="Also declare this pool's job consumer; repeatable.")
    ] = None,
    prefix: PrefixOption = None,
    replicas: Annotated[
        int | None,
        typer.Option(
            help="Copies of each stream and bucket: 1 on one server, 3 on a cluster (env: LLEM_STREAM_REPLICAS)."
        ),
    ] = None,
) -> None:
    """Declare streams, KV buckets and consumers (idempotent)."""
    settings = _settings(nats, prefix)
    if replicas is not None:
        settings = settings.model_copy(update={"stream_replicas": replicas})
    _run(_bootstrap(settings, pool or []))


@app.command()
@nats_options
def run(nats: dict[str, Any], prefix: PrefixOption = None) -> None:
    """Follow events and advisories; keep job states; sweep liveness and progress."""
    from llem_scheduler.service import create_app

    app_, _ = create_app(_settings(nats, prefix))
    _run(app_.run())


def main(argv: list[str] | None = None) -> int:
    return entry_point(app, argv)


if __name__ == "__main__":
    raise SystemExit(main())
