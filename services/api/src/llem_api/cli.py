"""`llem-api run` serves the API with uvicorn; `llem-api token create|revoke` manages write tokens."""

from __future__ import annotations

import argparse
import asyncio
import uuid

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
    args = parser.parse_args(argv)
    settings = ApiSettings()
    if args.command == "token":
        print(asyncio.run(_token(settings, args)))
        return 0
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port, log_level="info")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
