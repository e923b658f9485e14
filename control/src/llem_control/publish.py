"""Durable publishing: every event with its Nats-Msg-Id, every publish confirmed by a PubAck."""

from __future__ import annotations

from uuid import UUID

from nats.js import JetStreamContext
from nats.js.api import PubAck

from llem_control.errors import PublishError
from llem_schemas.base import Event
from llem_schemas.events import JobQueued
from llem_schemas.subjects import Layout


async def publish_event(
    js: JetStreamContext, layout: Layout, event: Event, subject: str | None = None
) -> PubAck:
    try:
        return await js.publish(
            subject or layout.subject_for(event),
            event.model_dump_json().encode(),
            headers={"Nats-Msg-Id": str(event.event_id)},
        )
    except Exception as exc:
        raise PublishError(f"{event.type} {event.event_id} not stored: {exc}") from exc  # type: ignore[attr-defined]


async def publish_raw(js: JetStreamContext, subject: str, payload: bytes, event_id: UUID) -> PubAck:
    """An event already serialised (one encoding for several subjects)."""
    try:
        return await js.publish(subject, payload, headers={"Nats-Msg-Id": str(event_id)})
    except Exception as exc:
        raise PublishError(f"{subject} {event_id} not stored: {exc}") from exc


async def enqueue_job(js: JetStreamContext, layout: Layout, queued: JobQueued) -> PubAck:
    """Mirror a job on the events stream, then put it on its pool's work queue.

    In this order, the events stream always holds a job's `job.queued` before any run event of it."""
    await publish_event(js, layout, queued)
    return await publish_event(
        js, layout, queued, layout.job_subject(queued.job.pool, queued.job.campaign_id)
    )
