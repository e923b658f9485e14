"""Submit and cancel campaigns: the functions the CLI and the API call.

Every id and event id is derived from content, so submitting the same campaign again publishes the
same Nats-Msg-Ids. A job that already has a state (in the job-state KV bucket) is never queued again,
so a resubmit after the jobs stream's duplicate window is a no-op too.

Per job, the order is: its state in KV (marked not yet enqueued), `job.queued` on the events stream,
the work queue, then the mark. A crash in between leaves the mark unset, and a resubmit publishes
that job again (the streams drop what they already hold, by Nats-Msg-Id).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from nats.js import JetStreamContext
from nats.js.errors import BucketNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from llem_control.bootstrap import ensure_pools
from llem_control.campaigns import CampaignRecord, CampaignStore
from llem_control.errors import CampaignNotFound
from llem_control.expand import Expansion
from llem_control.publish import publish_event, publish_raw
from llem_control.state import JobState, StateStore
from llem_schemas.campaign import CampaignSpec
from llem_schemas.events import CampaignCancelled, CampaignSubmitted, JobQueued
from llem_schemas.subjects import Layout

CHUNK = 256  # jobs in flight at once: PubAcks are awaited together, the queue order is kept


async def purge_campaign_queues(js: JetStreamContext, layout: Layout, record: CampaignRecord) -> None:
    """Remove every job of the campaign still in the work queue (delivered-but-unacked ones too)."""
    for pool in record.pools:
        await js.purge_stream(layout.jobs_stream, subject=layout.job_subject(pool, record.campaign_id))


@dataclass(frozen=True)
class Submitted:
    campaign_id: uuid.UUID
    queued: int  # newly queued jobs
    already: int  # jobs that were queued (or ran) before: not queued again


def _enqueued(state: JobState | None) -> JobState | None:
    return state.model_copy(update={"enqueued": True}) if state is not None and not state.enqueued else None


async def submit_campaign(
    js: JetStreamContext, layout: Layout, spec: CampaignSpec, expansion: Expansion
) -> Submitted:
    pools = [p.name for p in spec.pools]
    await ensure_pools(js, layout, pools)
    kv = await js.key_value(layout.job_state_kv.bucket)
    store = StateStore(kv, layout.job_max_deliver)
    campaigns = CampaignStore(await js.key_value(layout.campaigns_kv.bucket))
    submitted = CampaignSubmitted(
        event_id=uuid.uuid5(expansion.campaign_id, "submitted"),
        campaign_id=expansion.campaign_id,
        name=spec.name,
        description=spec.description,
        job_count=len(expansion.jobs),
        spec=spec.model_dump(mode="json"),
    )
    # A campaign recorded here for the first time has no job state yet: no need to look them up.
    fresh = await campaigns.create(
        CampaignRecord(
            campaign_id=expansion.campaign_id,
            name=spec.name,
            pools=pools,
            job_count=len(expansion.jobs),
            submitted_at=submitted.occurred_at,
        )
    )
    await publish_event(js, layout, submitted)
    queued = 0
    for start in range(0, len(expansion.jobs), CHUNK):
        chunk = expansion.jobs[start : start + CHUNK]
        if fresh:
            known: list[tuple[JobState | None, int]] = [(None, 0)] * len(chunk)
        else:
            known = list(await asyncio.gather(*(store.get(job.job_id) for job in chunk)))
        todo = [
            (JobQueued(event_id=uuid.uuid5(job.job_id, "queued"), job=job), state, revision)
            for job, (state, revision) in zip(chunk, known, strict=True)
            if state is None or not state.enqueued
        ]
        payloads = [(e, e.model_dump_json().encode()) for e, _, _ in todo]
        # The state first (marked not yet enqueued), so that a crash before the PubAck leaves a
        # trace that the next submit repairs; then the event copy, then the work queue (in order).
        revisions = await asyncio.gather(*(_put_pending(kv, e, state, rev) for e, state, rev in todo))
        await asyncio.gather(*(publish_raw(js, layout.subject_for(e), p, e.event_id) for e, p in payloads))
        await asyncio.gather(
            *(
                publish_raw(js, layout.job_subject(e.job.pool, e.job.campaign_id), p, e.event_id)
                for e, p in payloads
            )
        )
        await asyncio.gather(
            *(_mark_enqueued(kv, store, e, rev) for (e, _, _), rev in zip(todo, revisions, strict=True))
        )
        queued += len(todo)
    return Submitted(expansion.campaign_id, queued, len(expansion.jobs) - queued)


def _pending(event: JobQueued) -> JobState:
    job = event.job
    return JobState(
        job_id=job.job_id,
        campaign_id=job.campaign_id,
        pool=job.pool,
        status="queued",
        updated_at=event.occurred_at,
        enqueued=False,
    )


async def _put_pending(kv: KeyValue, event: JobQueued, state: JobState | None, revision: int) -> int:
    if state is not None:
        return revision  # already pending from a submit cut short
    try:
        return await kv.create(str(event.job.job_id), _pending(event).model_dump_json().encode())
    except KeyWrongLastSequenceError:
        return 0  # created meanwhile (the scheduler saw the job): the mark below re-reads it


async def _mark_enqueued(kv: KeyValue, store: StateStore, event: JobQueued, revision: int) -> None:
    key = str(event.job.job_id)
    if revision:
        try:
            marked = _pending(event).model_copy(update={"enqueued": True})
            await kv.update(key, marked.model_dump_json().encode(), last=revision)
            return
        except KeyWrongLastSequenceError:
            pass  # the scheduler (or a runner's start) moved it first
    await store.mutate(event.job.job_id, _enqueued)


async def cancel_campaign(
    js: JetStreamContext, layout: Layout, campaign_id: uuid.UUID, reason: str = ""
) -> CampaignRecord:
    """Cancel a campaign: its queued jobs leave the work queue now; the scheduler (following the
    `campaign.cancelled` event) ends every unfinished job as cancelled and stops the running ones."""
    try:
        campaigns = CampaignStore(await js.key_value(layout.campaigns_kv.bucket))
    except BucketNotFoundError as exc:  # nothing was ever submitted to this deployment
        raise CampaignNotFound(f"no campaign {campaign_id}") from exc
    now = datetime.now(UTC)
    record = await campaigns.cancel(campaign_id, now, reason or "campaign cancelled")
    if record is None:
        raise CampaignNotFound(f"no campaign {campaign_id}")
    await purge_campaign_queues(js, layout, record)
    await publish_event(
        js,
        layout,
        CampaignCancelled(
            event_id=uuid.uuid5(campaign_id, "cancelled"),
            occurred_at=record.cancelled_at or now,
            campaign_id=campaign_id,
            reason=record.cancel_reason or "",
        ),
    )
    return record
