"""`llem-api run`: serve the API with uvicorn."""

from __future__ import annotations

import argparse

import uvicorn

from llem_api.app import create_app
from llem_api.settings import ApiSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llem-api")
    parser.add_argument("command", choices=["run"])
    parser.parse_args(argv)
    settings = ApiSettings()
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port, log_level="info")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
