"""`llem-ingest run|migrate`."""

from __future__ import annotations

import argparse
import asyncio
import logging

from llem_ingest.migrate import migrate
from llem_ingest.settings import IngestSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llem-ingest")
    parser.add_argument("command", choices=["run", "migrate"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = IngestSettings()
    if args.command == "migrate":
        for name in migrate(settings.database_url):
            print(f"applied {name}")
        return 0
    from llem_ingest.app import create_app

    app, _ = create_app(settings)
    asyncio.run(app.run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
