"""`llem-api run` serves the API with uvicorn; `llem-api token create|revoke` manages write tokens;
`llem-api openapi [--check]` writes the OpenAPI document. Settings come from LLEM_* variables
(ApiSettings); the shared NATS flags and `--database` override them."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Annotated, Any

import psycopg
import typer

from llem_api.settings import ApiSettings
from llem_api.tokens import SCOPES, create_token, revoke_token
from llem_control.options import entry_point, nats_options

app = typer.Typer(
    help="llem API: the leaderboard, runs, campaigns, runners and live streams.", no_args_is_help=True
)
token_app = typer.Typer(help="Bearer tokens for writes (only a hash is stored).", no_args_is_help=True)
app.add_typer(token_app, name="token")
OPENAPI = Path(__file__).resolve().parents[2] / "openapi.json"
DatabaseOption = Annotated[
    str | None, typer.Option("--database", help="PostgreSQL URL (env: LLEM_DATABASE_URL).")
]


def _settings(nats: dict[str, Any] | None = None, database: str | None = None) -> ApiSettings:
    given: dict[str, Any] = {**(nats or {}), **({"database_url": database} if database else {})}
    return ApiSettings(**given)


def openapi_document() -> str:
    """The app's OpenAPI document, as committed in services/api/openapi.json."""
    from llem_api.app import create_app

    schema = create_app(ApiSettings()).openapi_schema.to_schema()
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


@app.command()
@nats_options
def run(nats: dict[str, Any], database: DatabaseOption = None) -> None:
    """Serve the API (and the built web app, when LLEM_WEB_DIR is set)."""
    import uvicorn

    from llem_api.app import create_app

    settings = _settings(nats, database)
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port, log_level="info")


@app.command()
def openapi(
    out: Annotated[Path, typer.Option(help="Where to write it.")] = OPENAPI,
    check: Annotated[bool, typer.Option("--check", help="Fail if the file differs from the app's.")] = False,
) -> None:
    """Write the OpenAPI document (the web app generates its client from it)."""
    document = openapi_document()
    if check:
        if not out.is_file() or out.read_text() != document:
            typer.echo(f"{out} is stale: run `llem-api openapi` (make schemas) and commit it", err=True)
            raise typer.Exit(code=1)
        typer.echo(f"{out} is fresh")
        return
    out.write_text(document)
    typer.echo(out)


async def _with_db(database_url: str, action: Any) -> str:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        result: str = await action(conn)
        return result


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="Who or what uses it.")],
    scope: Annotated[
        list[str] | None, typer.Option(help=f"One of {sorted(SCOPES)}; default: every scope.")
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Print a new token, once."""
    unknown = set(scope or []) - set(SCOPES)
    if unknown:
        typer.echo(f"unknown scope {sorted(unknown)}; choose from {sorted(SCOPES)}", err=True)
        raise typer.Exit(code=2)
    url = _settings(database=database).database_url
    typer.echo(asyncio.run(_with_db(url, lambda conn: create_token(conn, name, scope or sorted(SCOPES)))))


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (the hex after llem_).")],
    database: DatabaseOption = None,
) -> None:
    """Revoke a token by its id."""

    async def revoke(conn: psycopg.AsyncConnection[Any]) -> str:
        done = await revoke_token(conn, uuid.UUID(token_id))
        return f"revoked {token_id}" if done else f"no active token {token_id}"

    typer.echo(asyncio.run(_with_db(_settings(database=database).database_url, revoke)))


def main(argv: list[str] | None = None) -> int:
    return entry_point(app, argv, log=False)


if __name__ == "__main__":
    raise SystemExit(main())
