"""Errors as RFC 9457 problem details, in one place: the handlers that produce them and the
OpenAPI responses that document them (so the document lists every status an operation returns)."""

from __future__ import annotations

import logging

from litestar import Request, Response
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.openapi import ResponseSpec

from llem_api.dto import Problem
from llem_api.errors import ApiError

PROBLEM = "application/problem+json"
log = logging.getLogger("llem.api")

_MEANINGS = {
    400: "Bad request: a parameter or the body is invalid; `detail` names it.",
    401: "No valid bearer token.",
    403: "The token lacks the scope this operation needs.",
    404: "No such resource.",
    409: "The resource's state does not allow this (a campaign that has finished cannot be cancelled).",
    413: "The request body is larger than the server accepts.",
    429: "Too many writes from this client; `RateLimit-Reset` says in how many seconds to retry.",
    503: "A dependency (the database or NATS) is unavailable.",
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI responses for these error statuses, each an `application/problem+json` Problem."""
    return {
        s: ResponseSpec(Problem, description=_MEANINGS[s], media_type=PROBLEM, generate_examples=False)
        for s in statuses
    }


def cacheable(*statuses: int) -> dict[int, ResponseSpec]:
    """A JSON read under /api/: its answers carry an ETag (see `http`), so it may answer 304."""
    not_modified = ResponseSpec(
        None, description="Not modified: the `If-None-Match` ETag is current; no body."
    )
    return {**problems(*statuses), 304: not_modified}


def problem(
    request: Request[object, object, State], status: int, title: str, detail: str
) -> Response[Problem]:
    return Response(
        Problem(title=title, status=status, detail=detail, instance=request.url.path),
        status_code=status,
        media_type=PROBLEM,
    )


def api_error(request: Request[object, object, State], exc: ApiError) -> Response[Problem]:
    return problem(request, exc.status_code, exc.title, str(exc))


def http_error(request: Request[object, object, State], exc: HTTPException) -> Response[Problem]:
    detail = exc.detail
    if exc.extra:
        detail = f"{detail}: {exc.extra}"
    response = problem(
        request, exc.status_code, "Request error" if exc.status_code < 500 else "Server error", str(detail)
    )
    response.headers.update(exc.headers or {})  # RateLimit-* of a 429, Allow of a 405
    return response


def unexpected(request: Request[object, object, State], exc: Exception) -> Response[Problem]:
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    return problem(request, 500, "Server error", "an unexpected error; it is logged on the server")
