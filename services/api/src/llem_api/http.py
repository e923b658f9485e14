"""HTTP caching and compression, as two ASGI middlewares (gzip outside, ETag inside).

Litestar's own compression runs inside every app-level middleware, so an ETag middleware would
hash gzip output, whose header carries a timestamp: no two answers would ever match. Here the
ETag is computed on the identity body first, then gzip (deterministic, mtime 0) compresses it,
and turns a strong validator into a weak one as RFC 9110 asks of a transformed representation.

- ETag: GET answers under /api/ with status 200 and a JSON body get `ETag: W/"<hash of the body>"` and
  `Cache-Control: no-cache` (keep it, revalidate each time); a request whose `If-None-Match`
  names it gets 304 and no body. Answers that set their own ETag (the leaderboard's, from its
  cache generation, which needs no body at all) are left alone.
- gzip: compressible types above `minimum_size` bytes, when the client accepts gzip; streams
  (CSV downloads) are compressed chunk by chunk; server-sent events never (they must not wait).
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, cast

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

COMPRESSIBLE = ("application/json", "application/problem+json", "application/javascript", "text/",
                "image/svg+xml", "application/manifest+json")  # fmt: skip
Headers = list[tuple[bytes, bytes]]
Raw = dict[str, Any]  # an ASGI message as this module reads and rebuilds it
RawSend = Callable[[Raw], Awaitable[None]]


def _get(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    return next((v for k, v in headers if k.lower() == name), None)


def _without(headers: Headers, *names: bytes) -> Headers:
    return [(k, v) for k, v in headers if k.lower() not in names]


def accepts_gzip(header: bytes | None) -> bool:
    """True when Accept-Encoding admits gzip (or `*`) with a non-zero quality."""
    for part in (header or b"").decode("latin-1").lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "*"):
            q = params.strip().removeprefix("q=")
            try:
                return not params or float(q) > 0
            except ValueError:
                return False
    return False


def matches(if_none_match: str | None, etag: str) -> bool:
    """Weak comparison (RFC 9110 13.1.2): `W/"x"` and `"x"` match; `*` matches anything."""
    if if_none_match is None:
        return False
    tags = [t.strip() for t in if_none_match.split(",")]
    return "*" in tags or etag.removeprefix("W/") in (t.removeprefix("W/") for t in tags)


def body_etag(body: bytes) -> str:
    return f'W/"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'


class ETagMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != ScopeType.HTTP
            or scope.get("method") != "GET"
            or not scope["path"].startswith("/api/")
        ):
            await self.app(scope, receive, send)
            return
        raw = _get(scope["headers"], b"if-none-match")
        if_none_match = raw.decode("latin-1") if raw is not None else None
        start: Raw | None = None
        chunks: list[bytes] = []
        out = cast(RawSend, send)

        async def wrapped(asgi_message: Message) -> None:
            nonlocal start
            message = cast(Raw, asgi_message)
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                content_type = _get(headers, b"content-type") or b""
                if (
                    message["status"] == 200
                    and content_type.startswith(b"application/json")
                    and (_get(headers, b"etag") is None)
                ):
                    start = message  # held until the body is known
                    return
            elif start is not None and message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = b"".join(chunks)
                etag = body_etag(body)
                headers = _without(list(start.get("headers", [])), b"etag")
                headers.append((b"etag", etag.encode()))
                if _get(headers, b"cache-control") is None:
                    headers.append((b"cache-control", b"no-cache"))
                if matches(if_none_match, etag):
                    headers = _without(headers, b"content-length", b"content-type")
                    await out({**start, "status": 304, "headers": headers})
                    await out({"type": "http.response.body", "body": b""})
                    return
                await out({**start, "headers": headers})
                await out({"type": "http.response.body", "body": body})
                return
            await out(message)

        await self.app(scope, receive, cast(Send, wrapped))


class GzipMiddleware:
    def __init__(self, app: ASGIApp, minimum_size: int = 500, level: int = 6) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.level = level

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or not accepts_gzip(_get(scope["headers"], b"accept-encoding")):
            await self.app(scope, receive, send)
            return
        start: Raw | None = None
        compressor: zlib._Compress | None = None
        out = cast(RawSend, send)

        def compressed_start(headers: Headers, length: int | None) -> Raw:
            assert start is not None
            headers = _without(headers, b"content-length")
            etag = _get(headers, b"etag")
            if etag is not None and not etag.startswith(b"W/"):
                headers = [*_without(headers, b"etag"), (b"etag", b"W/" + etag)]
            headers += [(b"content-encoding", b"gzip"), (b"vary", b"Accept-Encoding")]
            if length is not None:
                headers.append((b"content-length", str(length).encode()))
            return {**start, "headers": headers}

        async def wrapped(asgi_message: Message) -> None:
            nonlocal start, compressor
            message = cast(Raw, asgi_message)
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                content_type = (_get(headers, b"content-type") or b"").decode("latin-1")
                if (
                    message["status"] not in (204, 304)
                    and _get(headers, b"content-encoding") is None
                    and content_type.startswith(COMPRESSIBLE)
                    and not content_type.startswith("text/event-stream")
                ):
                    start = message
                    return
            elif start is not None and message["type"] == "http.response.body":
                body, more = message.get("body", b""), message.get("more_body", False)
                headers = list(start.get("headers", []))
                if compressor is None:
                    if not more:
                        if len(body) < self.minimum_size:
                            await out({**start, "headers": [*headers, (b"vary", b"Accept-Encoding")]})
                            await out(message)
                        else:
                            data = gzip.compress(body, self.level, mtime=0)
                            await out(compressed_start(headers, len(data)))
                            await out({"type": "http.response.body", "body": data})
                        return
                    compressor = zlib.compressobj(self.level, zlib.DEFLATED, 31)  # 31: gzip framing
                    await out(compressed_start(headers, None))
                data = compressor.compress(body) + (compressor.flush() if not more else b"")
                await out({"type": "http.response.body", "body": data, "more_body": more})
                return
            await out(message)

        await self.app(scope, receive, cast(Send, wrapped))
