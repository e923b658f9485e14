"""Campaign writes (submit, cancel) and the preview's expansion: the scheduler's own validation,
expansion, idempotent submit and cancel (llem-control), with their errors as the API's. Who may
write is the guard's business (`auth`); the routes are in `controllers.campaigns`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from nats.js import JetStreamContext
from nats.js.errors import BucketNotFoundError
from psycopg_pool import AsyncConnectionPool

from llem_api.dto import CancelledOut, DroppedOut, SubmittedOut
from llem_api.errors import BadRequest, Conflict, NotFound, Unavailable
from llem_api.live import Hub
from llem_api.queries import campaign_status
from llem_control.campaigns import CampaignStore
from llem_control.errors import CampaignNotFound, SpecError
from llem_control.expand import Expansion, expand
from llem_control.spec import validate_spec
from llem_control.submit import cancel_campaign, submit_campaign
from llem_schemas.campaign import CampaignSpec
from llem_schemas.subjects import Layout


def _jetstream(hub: Hub | None) -> JetStreamContext:
    if hub is None:
        raise Unavailable("campaign writes need NATS, which this API process could not reach at start-up")
    return hub.nc.jetstream()


def expand_spec(data: dict[str, Any]) -> tuple[CampaignSpec, Expansion]:
    """A request body validated and expanded as the scheduler does it; BadRequest saying what is wrong."""
    try:
        spec = validate_spec(data, "request body")
        return spec, expand(spec)
    except SpecError as exc:
        raise BadRequest(str(exc)) from exc


async def submit(hub: Hub | None, layout: Layout, data: dict[str, Any]) -> SubmittedOut:
    """Validate, expand and submit; nothing is published on any error; a resubmit queues nothing new."""
    spec, expansion = expand_spec(data)
    result = await submit_campaign(_jetstream(hub), layout, spec, expansion)
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


async def cancel(
    hub: Hub | None, pool: AsyncConnectionPool, layout: Layout, campaign_id: UUID, reason: str
) -> CancelledOut:
    """Cancel idempotently (a cancelled campaign stays cancelled, with its first reason); Conflict
    for a campaign that has finished, NotFound for one never submitted."""
    js = _jetstream(hub)
    # cancelled first: a cancelled campaign stays 200 even if its row still reads `finished`
    if not await _cancelled(js, layout, campaign_id) and await _finished(pool, campaign_id):
        raise Conflict(f"campaign {campaign_id} has finished: nothing to cancel")
    try:
        await cancel_campaign(js, layout, campaign_id, reason)
    except CampaignNotFound as exc:
        raise NotFound(str(exc)) from exc
    return CancelledOut(campaign_id=campaign_id, status="cancelled")
