"""`llem-scheduler bootstrap [--pool NAME ...]` declares the JetStream layout;
`llem-scheduler run` follows the campaigns and keeps every job's state."""

from __future__ import annotations

import argparse
import asyncio
import logging

import nats

from llem_control.bootstrap import bootstrap
from llem_scheduler.settings import SchedulerSettings


async def _bootstrap(settings: SchedulerSettings, pools: list[str]) -> None:
    nc = await nats.connect(settings.nats_url, user_credentials=settings.nats_creds)
    try:
        await bootstrap(nc.jetstream(), settings.layout(), pools)
    finally:
        await nc.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llem-scheduler")
    sub = parser.add_subparsers(dest="command", required=True)
    boot = sub.add_parser("bootstrap", help="declare streams and consumers (idempotent)")
    boot.add_argument("--pool", action="append", default=[], help="also declare this pool's job consumer")
    sub.add_parser("run", help="follow events and advisories; keep job states; sweep liveness and progress")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = SchedulerSettings()
    if args.command == "bootstrap":
        asyncio.run(_bootstrap(settings, args.pool))
        return 0
    from llem_scheduler.service import create_app

    app, _ = create_app(settings)
    asyncio.run(app.run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
