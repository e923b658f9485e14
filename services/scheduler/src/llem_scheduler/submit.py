"""Submit an expanded campaign: declare its pools' consumers, publish the campaign and its jobs.

Every id and event id is derived from content, so submitting the same campaign again publishes the
same Nats-Msg-Ids: JetStream drops them (duplicate window), and ingest's upserts are idempotent.
"""

from __future__ import annotations

import uuid

from nats.js import JetStreamContext

from llem_scheduler.bootstrap import bootstrap
from llem_scheduler.expand import Expansion
from llem_scheduler.publish import enqueue_job, publish_event
from llem_schemas.campaign import CampaignSpec
from llem_schemas.events import CampaignSubmitted, JobQueued
from llem_schemas.subjects import Layout


async def submit_campaign(
    js: JetStreamContext, layout: Layout, spec: CampaignSpec, expansion: Expansion
) -> int:
    """Returns the number of jobs newly queued (0 for a resubmit inside the duplicate window)."""
    await bootstrap(js, layout, [p.name for p in spec.pools])
    submitted = CampaignSubmitted(
        event_id=uuid.uuid5(expansion.campaign_id, "submitted"),
        campaign_id=expansion.campaign_id,
        name=spec.name,
        description=spec.description,
        job_count=len(expansion.jobs),
        spec=spec.model_dump(mode="json"),
    )
    await publish_event(js, layout, submitted)
    queued = 0
    for job in expansion.jobs:
        ack = await enqueue_job(js, layout, JobQueued(event_id=uuid.uuid5(job.job_id, "queued"), job=job))
        queued += 0 if ack.duplicate else 1
    return queued
