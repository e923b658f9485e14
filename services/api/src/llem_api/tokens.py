"""API tokens: `llem_<token id>_<secret>`; the database keeps the SHA-256 of the secret only.

The secret is 32 random bytes, so a fast hash is enough (nothing to brute-force); the comparison is
constant-time. Scopes: `campaigns:write` (submit and cancel campaigns).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from psycopg import AsyncConnection

SCOPES = frozenset({"campaigns:write"})


@dataclass(frozen=True)
class Principal:
    token_id: uuid.UUID
    name: str
    scopes: frozenset[str]


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


async def create_token(conn: AsyncConnection, name: str, scopes: list[str]) -> str:
    unknown = set(scopes) - SCOPES
    if unknown:
        raise ValueError(f"unknown scope(s) {sorted(unknown)}; known: {sorted(SCOPES)}")
    token_id, secret = uuid.uuid4(), secrets.token_urlsafe(32)
    await conn.execute(
        "INSERT INTO api_tokens (token_id, name, scopes, secret_sha256) VALUES (%s, %s, %s, %s)",
        (token_id, name, scopes, _digest(secret)),
    )
    return f"llem_{token_id.hex}_{secret}"


async def revoke_token(conn: AsyncConnection, token_id: uuid.UUID) -> bool:
    cur = await conn.execute(
        "UPDATE api_tokens SET revoked_at = now() WHERE token_id = %s AND revoked_at IS NULL", (token_id,)
    )
    return cur.rowcount == 1


async def authenticate(conn: AsyncConnection, token: str) -> Principal | None:
    prefix, _, rest = token.partition("_")
    raw_id, _, secret = rest.partition("_")
    if prefix != "llem" or not secret:
        return None
    try:
        token_id = uuid.UUID(hex=raw_id)
    except ValueError:
        return None
    cur = await conn.execute(
        "SELECT name, scopes, secret_sha256 FROM api_tokens WHERE token_id = %s AND revoked_at IS NULL",
        (token_id,),
    )
    row = await cur.fetchone()
    if row is None or not hmac.compare_digest(bytes(row[2]), _digest(secret)):
        return None
    return Principal(token_id, str(row[0]), frozenset(row[1]))
