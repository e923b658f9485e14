"""`llem-scheduler bootstrap [--pool NAME ...]`: declare the JetStream layout."""

from __future__ import annotations

import argparse
import asyncio
import logging

import nats

from llem_scheduler.bootstrap import bootstrap
from llem_scheduler.settings import SchedulerSettings
from llem_schemas.subjects import Layout


async def _bootstrap(settings: SchedulerSettings, pools: list[str]) -> None:
    nc = await nats.connect(settings.nats_url, user_credentials=settings.nats_creds)
    try:
        await bootstrap(nc.jetstream(), Layout(settings.prefix), pools)
    finally:
        await nc.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llem-scheduler")
    sub = parser.add_subparsers(dest="command", required=True)
    boot = sub.add_parser("bootstrap", help="declare streams and consumers (idempotent)")
    boot.add_argument("--pool", action="append", default=[], help="also declare this pool's job consumer")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(_bootstrap(SchedulerSettings(), args.pool))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
