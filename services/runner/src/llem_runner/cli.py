"""`llem-runner run` (pull jobs) and `llem-runner make-tiny-model PATH`."""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from llem_runner.settings import RunnerSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llem-runner")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="connect to NATS (outbound) and run jobs of this runner's pools")
    tiny = sub.add_parser("make-tiny-model", help="write a tiny random-weight GGUF for smoke tests")
    tiny.add_argument("path", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if args.command == "make-tiny-model":
        from llem_runner.tinymodel import write_tiny_model

        print(write_tiny_model(args.path))
        return 0
    from llem_runner.app import create_app

    app, _ = create_app(RunnerSettings())
    asyncio.run(app.run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
