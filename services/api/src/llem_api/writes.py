"""Campaign writes (submit, cancel): bearer tokens with the `campaigns:write` scope; the
scheduler's own validation, expansion, idempotent submit and cancel. The preview of a spec runs the
same validation and expansion, needs no token and publishes nothing."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.errors import BucketNotFoundError
from psycopg_pool import AsyncConnectionPool

from llem_api.dto import CampaignPreview, CancelIn, CancelledOut, DroppedOut, SubmittedOut
from llem_api.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized, Unavailable
from llem_api.live import Hub
from llem_api.preview import campaign_preview
from llem_api.problems import problems
from llem_api.queries import campaign_status
from llem_api.tokens import authenticate
from llem_control.campaigns import CampaignStore
from llem_control.errors import CampaignNotFound, SpecError
from llem_control.expand import Expansion, expand
from llem_control.spec import validate_spec
from llem_control.submit import cancel_campaign, submit_campaign
from llem_schemas.campaign import CampaignSpec
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


def _expand(data: dict[str, Any]) -> tuple[CampaignSpec, Expansion]:
    try:
        spec = validate_spec(data, "request body")
        return spec, expand(spec)
    except SpecError as exc:
        raise BadRequest(str(exc)) from exc


@post("/api/campaigns/preview", status_code=200, responses=problems(400, 413, 429))
async def preview_campaign(data: JSONBody[dict[str, Any]]) -> CampaignPreview:
    """What submitting this spec would queue: its configurations with their job counts and the
    combinations dropped, by the scheduler's own validation and expansion. Publishes nothing."""
    return campaign_preview(*_expand(data))


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
    spec, expansion = _expand(data)
    layout: Layout = request.app.state.layout
    result = await submit_campaign(_nats(request).jetstream(), layout, spec, expansion)
    return SubmittedOut(
        campaign_id=result.campaign_id,
        queued=result.queued,
        already=result.already,
        dropped=[DroppedOut(config=d.config, reason=d.reason) for d in expansion.dropped],
    )


async def _cancelled(js: JetStreamContext, layout: Layout, campaign_id: UUID) -> bool:
    try:
        record, _ = await CampaignStore(await js.key_value(layout.campaigns_kv.bucket)).get(campaign_id)
    except BucketNotFoundError:
        return False  # nothing was ever submitted: cancel_campaign answers not found
    return record is not None and record.cancelled


async def _finished(pool: AsyncConnectionPool, campaign_id: UUID) -> bool:
    """Whether every job of the campaign has ended, by the database's campaign status. That status is
    the scheduler's own verdict (its `campaign.progress`, computed from the KV job states) as ingest
    recorded it: one row to read, where the KV would need every job's key. It may lag the KV by the
    ingest delay; then a cancel is accepted, which is harmless (cancel only ends unfinished jobs)."""
    async with pool.connection() as conn:
        return await campaign_status(conn, campaign_id) == "finished"


@post(
    "/api/campaigns/{campaign_id:uuid}/cancel",
    status_code=200,
    responses=problems(400, 401, 403, 404, 409, 413, 429, 503),
    security=[{SECURITY: []}],
)
async def post_cancel(
    request: Request[object, object, State], campaign_id: FromPath[UUID], data: JSONBody[CancelIn]
) -> CancelledOut:
    """Cancel a campaign. Idempotent: cancelling a cancelled campaign answers 200 again (the first
    cancel's reason stays); a campaign that has finished answers 409."""
    await _principal(request, SCOPE)
    layout: Layout = request.app.state.layout
    js = _nats(request).jetstream()
    # cancelled first: a cancelled campaign stays 200 even if its row still reads `finished`
    if not await _cancelled(js, layout, campaign_id) and await _finished(request.app.state.pool, campaign_id):
        raise Conflict(f"campaign {campaign_id} has finished: nothing to cancel")
    try:
        await cancel_campaign(js, layout, campaign_id, data.reason)
    except CampaignNotFound as exc:
        raise NotFound(str(exc)) from exc
    return CancelledOut(campaign_id=campaign_id, status="cancelled")


HANDLERS = [preview_campaign, post_campaign, post_cancel]
