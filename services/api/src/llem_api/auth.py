"""Bearer-token authorization of the writes, as a Litestar guard (tokens: `tokens`).

A write route names the guard of its scope and the OpenAPI security requirement together
(`guards=[CAMPAIGNS_WRITE], security=BEARER`); the guard runs before the body is read, so an
anonymous request is refused before its body costs anything. Refusals are `ApiError`s, turned
into problems with the others (`problems`): 401 for no or a bad token, 403 for a missing scope.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.openapi.spec import SecurityRequirement, SecurityScheme
from litestar.types import Guard
from psycopg_pool import AsyncConnectionPool

from llem_api.errors import Forbidden, Unauthorized
from llem_api.tokens import Principal, authenticate

SCOPE = "campaigns:write"
SECURITY = "BearerToken"  # the OpenAPI security scheme of the writes
BEARER: list[SecurityRequirement] = [{SECURITY: []}]
BEARER_SCHEME = SecurityScheme(
    type="http",
    scheme="bearer",
    description="A token from `llem-api token create` (llem_<id>_<secret>), with the"
    f" `{SCOPE}` scope for campaign writes.",
)


async def principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """Who sent the request, by its `Authorization: Bearer` token; Unauthorized when no one valid."""
    kind, _, token = connection.headers.get("authorization", "").partition(" ")
    if kind.lower() != "bearer" or not token:
        raise Unauthorized("this endpoint needs `Authorization: Bearer <token>` (llem-api token create)")
    pool: AsyncConnectionPool = connection.app.state.pool
    async with pool.connection() as conn:
        found = await authenticate(conn, token.strip())
    if found is None:
        raise Unauthorized("the token is unknown, malformed or revoked")
    return found


def requires(scope: str) -> Guard:
    """A guard admitting the holders of a valid token with this scope."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        found = await principal(connection)
        if scope not in found.scopes:
            raise Forbidden(f"token {found.name!r} lacks the scope {scope!r}")

    return guard


CAMPAIGNS_WRITE = requires(SCOPE)
