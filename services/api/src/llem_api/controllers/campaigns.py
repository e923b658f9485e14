"""Campaigns: the list, submit and one campaign's detail (`router`); the preview of a spec and the
cancel of a campaign (`actions`). Writes need a bearer token with their scope (the `auth` guard);
the preview needs none and publishes nothing. Logic: `queries`, `writes`, `preview`.

Two routers because the OpenAPI document lists the actions last, after the live streams; a path
cannot be split between two routers (each would add its own OPTIONS handler), hence submit, at
the collection's path, stays with the collection."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from psycopg_pool import AsyncConnectionPool

from llem_api.auth import BEARER, CAMPAIGNS_WRITE
from llem_api.deps import LiveHub
from llem_api.dto import CampaignDetail, CampaignPage, CampaignPreview, CancelIn, CancelledOut, SubmittedOut
from llem_api.params import PageLimit, PageOffset
from llem_api.preview import campaign_preview
from llem_api.problems import cacheable, problems
from llem_api.queries import campaign_detail, list_campaigns
from llem_api.writes import cancel, expand_spec, submit
from llem_schemas.subjects import Layout


@get("/", responses=cacheable(400))
async def get_campaigns(
    db: NamedDependency[AsyncConnectionPool], limit: PageLimit = 50, offset: PageOffset = 0
) -> CampaignPage:
    async with db.connection() as conn:
        return await list_campaigns(conn, limit, offset)


@get("/{campaign_id:uuid}", responses=cacheable(400, 404))
async def get_campaign(
    db: NamedDependency[AsyncConnectionPool], campaign_id: FromPath[UUID]
) -> CampaignDetail:
    async with db.connection() as conn:
        return await campaign_detail(conn, campaign_id)


@post("/preview", status_code=200, responses=problems(400, 413, 429))
async def preview_campaign(data: JSONBody[dict[str, Any]]) -> CampaignPreview:
    """What submitting this spec would queue: its configurations with their job counts and the
    combinations dropped, by the scheduler's own validation and expansion. Publishes nothing."""
    return campaign_preview(*expand_spec(data))


@post(
    "/",
    status_code=201,
    responses=problems(400, 401, 403, 413, 429, 503),
    guards=[CAMPAIGNS_WRITE],
    security=BEARER,
)
async def post_campaign(
    layout: NamedDependency[Layout], hub: LiveHub, data: JSONBody[dict[str, Any]]
) -> SubmittedOut:
    """Submit a campaign spec (the JSON form of a campaign file). Validated and expanded by the
    scheduler's own code; nothing is published on any error; a resubmit queues nothing new."""
    return await submit(hub, layout, data)


@post(
    "/{campaign_id:uuid}/cancel",
    status_code=200,
    responses=problems(400, 401, 403, 404, 409, 413, 429, 503),
    guards=[CAMPAIGNS_WRITE],
    security=BEARER,
)
async def post_cancel(
    db: NamedDependency[AsyncConnectionPool],
    layout: NamedDependency[Layout],
    hub: LiveHub,
    campaign_id: FromPath[UUID],
    data: JSONBody[CancelIn],
) -> CancelledOut:
    """Cancel a campaign. Idempotent: cancelling a cancelled campaign answers 200 again (the first
    cancel's reason stays); a campaign that has finished answers 409."""
    return await cancel(hub, db, layout, campaign_id, data.reason)


router = Router(path="/api/campaigns", route_handlers=[get_campaigns, post_campaign, get_campaign])
actions = Router(path="/api/campaigns", route_handlers=[preview_campaign, post_cancel])
