"""Campaign writes (submit, cancel): bearer tokens with the `campaigns:write` scope; the
scheduler's own validation, expansion, idempotent submit and cancel."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody
from nats.aio.client import Client as NatsClient
from psycopg_pool import AsyncConnectionPool

from llem_api.dto import CancelIn, CancelledOut, DroppedOut, SubmittedOut
from llem_api.errors import BadRequest, Forbidden, NotFound, Unauthorized, Unavailable
from llem_api.live import Hub
from llem_api.problems import problems
from llem_api.tokens import authenticate
from llem_scheduler.errors import CampaignNotFound, SpecError
from llem_scheduler.expand import expand
from llem_scheduler.spec import validate_spec
from llem_scheduler.submit import cancel_campaign, submit_campaign
from llem_schemas.subjects import Layout

SCOPE = "campaigns:write"
SECURITY = "BearerToken"  # the OpenAPI security scheme of the writes (declared in app.py)


async def _principal(request: Request[object, object, State], scope: str) -> None:
    header = request.headers.get("authorization", "")
    kind, _, token = header.partition(" ")
    if kind.lower() != "bearer" or not token:
        raise Unauthorized("this endpoint needs `Authorization: Bearer <token>` (llem-api token create)")
    pool: AsyncConnectionPool = request.app.state.pool
    async with pool.connection() as conn:
        principal = await authenticate(conn, token.strip())
    if principal is None:
        raise Unauthorized("the token is unknown, malformed or revoked")
    if scope not in principal.scopes:
        raise Forbidden(f"token {principal.name!r} lacks the scope {scope!r}")


def _nats(request: Request[object, object, State]) -> NatsClient:
    hub: Hub | None = request.app.state.get("hub")
    if hub is None:
        raise Unavailable("campaign writes need NATS, which this API process could not reach at start-up")
    return hub.nc


@post(
    "/api/campaigns",
    status_code=201,
    responses=problems(400, 401, 403, 413, 429, 503),
    security=[{SECURITY: []}],
)
async def post_campaign(
    request: Request[object, object, State], data: JSONBody[dict[str, Any]]
) -> SubmittedOut:
    """Submit a campaign spec (the JSON form of a campaign file). Validated and expanded by the
    scheduler's own code; nothing is published on any error; a resubmit queues nothing new."""
    await _principal(request, SCOPE)
    try:
        spec = validate_spec(data, "request body")
        expansion = expand(spec)
    except SpecError as exc:
        raise BadRequest(str(exc)) from exc
    layout: Layout = request.app.state.layout
    result = await submit_campaign(_nats(request).jetstream(), layout, spec, expansion)
    return SubmittedOut(
        campaign_id=result.campaign_id,
        queued=result.queued,
        already=result.already,
        dropped=[DroppedOut(config=d.config, reason=d.reason) for d in expansion.dropped],
    )


@post(
    "/api/campaigns/{campaign_id:uuid}/cancel",
    status_code=200,
    responses=problems(400, 401, 403, 404, 413, 429, 503),
    security=[{SECURITY: []}],
)
async def post_cancel(
    request: Request[object, object, State], campaign_id: FromPath[UUID], data: JSONBody[CancelIn]
) -> CancelledOut:
    await _principal(request, SCOPE)
    layout: Layout = request.app.state.layout
    try:
        await cancel_campaign(_nats(request).jetstream(), layout, campaign_id, data.reason)
    except CampaignNotFound as exc:
        raise NotFound(str(exc)) from exc
    return CancelledOut(campaign_id=campaign_id, status="cancelled")


HANDLERS = [post_campaign, post_cancel]
