"""`llem-api run` serves the API with uvicorn; `llem-api token create|revoke` manages write tokens."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from pathlib import Path

import psycopg
import uvicorn

from llem_api.app import create_app
from llem_api.settings import ApiSettings
from llem_api.tokens import SCOPES, create_token, revoke_token


async def _token(settings: ApiSettings, args: argparse.Namespace) -> str:
    async with await psycopg.AsyncConnection.connect(settings.database_url, autocommit=True) as conn:
        if args.action == "create":
            return await create_token(conn, args.name, args.scope or sorted(SCOPES))
        if await revoke_token(conn, uuid.UUID(args.token_id)):
            return f"revoked {args.token_id}"
        return f"no active token {args.token_id}"


OPENAPI = Path(__file__).resolve().parents[2] / "openapi.json"


def openapi_document() -> str:
    """The app's OpenAPI document, as committed in services/api/openapi.json."""
    schema = create_app(ApiSettings()).openapi_schema.to_schema()
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def _openapi(args: argparse.Namespace) -> int:
    document, out = openapi_document(), Path(args.out)
    if args.check:
        if not out.is_file() or out.read_text() != document:
            print(f"{out} is stale: run `llem-api openapi` (make schemas) and commit it", file=sys.stderr)
            return 1
        print(f"{out} is fresh")
        return 0
    out.write_text(document)
    print(out)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llem-api")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="serve the API")
    token = sub.add_parser("token", help="bearer tokens for writes (only a hash is stored)")
    actions = token.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="print a new token once")
    create.add_argument("--name", required=True, help="who or what uses it")
    create.add_argument("--scope", action="append", choices=sorted(SCOPES), help="default: every scope")
    revoke = actions.add_parser("revoke", help="revoke a token by its id (the hex after llem_)")
    revoke.add_argument("token_id")
    openapi = sub.add_parser("openapi", help="write the OpenAPI document (web/ generates its client from it)")
    openapi.add_argument("--out", default=str(OPENAPI), help="default: services/api/openapi.json")
    openapi.add_argument("--check", action="store_true", help="fail if the file differs from the app's")
    args = parser.parse_args(argv)
    if args.command == "openapi":
        return _openapi(args)
    settings = ApiSettings()
    if args.command == "token":
        print(asyncio.run(_token(settings, args)))
        return 0
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port, log_level="info")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
