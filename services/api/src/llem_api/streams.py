"""Live streams: server-sent events bridged from NATS (see `live`). 503 while NATS is unreachable."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated
from uuid import UUID

from litestar import Request, get
from litestar.datastructures import State
from litestar.params import FromPath, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from nats.js.api import DeliverPolicy

from llem_api.errors import BadRequest, Unavailable
from llem_api.live import EVENT_ID_PATTERN, EventId, Hub, TopicSpec
from llem_api.problems import problems
from llem_schemas.subjects import Layout

ERRORS = problems(400, 503)
SSE = "text/event-stream"
RETRY_MS = 1000  # how soon a browser reconnects after the stream breaks (an API restart, a proxy)

# A new EventSource cannot set headers: a page resuming across reloads passes the id here instead.
LastEventId = Annotated[
    str | None,
    QueryParameter(
        pattern=EVENT_ID_PATTERN,
        description="Resume after this SSE id, as the `Last-Event-ID` header does (the header wins"
        " when both are sent). An id of an earlier API process replays the whole history.",
    ),
]


def _last_event_id(request: Request[object, object, State], query: str | None) -> EventId | None:
    raw = request.headers.get("last-event-id") or query
    if raw is None:
        return None
    try:
        return EventId.parse(raw)
    except ValueError as exc:
        raise BadRequest(f"Last-Event-ID: {exc}") from exc


def _sse(request: Request[object, object, State], spec: TopicSpec, query: str | None) -> ServerSentEvent:
    hub: Hub | None = request.app.state.get("hub")
    if hub is None:
        raise Unavailable("live streams need NATS, which this API process could not reach at start-up")
    last = _last_event_id(request, query)

    async def messages() -> AsyncIterator[ServerSentEventMessage]:
        yield ServerSentEventMessage(data=None, retry=RETRY_MS)  # no data: browsers dispatch no event
        async for item in hub.stream(spec, last):
            yield ServerSentEventMessage(data=item.data, id=hub.event_id(item), event=item.event)

    return ServerSentEvent(messages())


@get("/api/live/runs/{run_id:uuid}", media_type=SSE, responses=ERRORS)
async def live_run(
    request: Request[object, object, State], run_id: FromPath[UUID], last_event_id: LastEventId = None
) -> ServerSentEvent:
    """One run's metric batches: recent history first, then live."""
    layout: Layout = request.app.state.layout
    subject = f"{layout.prefix}.metrics.*.{run_id}"
    return _sse(request, TopicSpec(f"run:{run_id}", (subject,), layout.metrics_stream), last_event_id)


@get("/api/live/campaigns/{campaign_id:uuid}", media_type=SSE, responses=ERRORS)
async def live_campaign(
    request: Request[object, object, State], campaign_id: FromPath[UUID], last_event_id: LastEventId = None
) -> ServerSentEvent:
    """One campaign: progress, job states and its runs' lifecycle (latest per subject, then live)."""
    layout: Layout = request.app.state.layout
    p = layout.prefix
    subjects = (f"{p}.events.campaign.{campaign_id}.>", f"{p}.events.job.{campaign_id}.*.status",
                f"{p}.events.run.{campaign_id}.>")  # fmt: skip
    spec = TopicSpec(
        f"campaign:{campaign_id}", subjects, layout.events_stream, DeliverPolicy.LAST_PER_SUBJECT
    )
    return _sse(request, spec, last_event_id)


@get("/api/live/campaigns/{campaign_id:uuid}/metrics", media_type=SSE, responses=ERRORS)
async def live_campaign_metrics(
    request: Request[object, object, State], campaign_id: FromPath[UUID], last_event_id: LastEventId = None
) -> ServerSentEvent:
    """The metric batches of every run of one campaign: the last batch of each run, then live."""
    layout: Layout = request.app.state.layout
    subjects = (f"{layout.prefix}.metrics.{campaign_id}.*",)
    spec = TopicSpec(
        f"campaign-metrics:{campaign_id}", subjects, layout.metrics_stream, DeliverPolicy.LAST_PER_SUBJECT
    )
    return _sse(request, spec, last_event_id)


@get("/api/live/fleet", media_type=SSE, responses=ERRORS)
async def live_fleet(
    request: Request[object, object, State], last_event_id: LastEventId = None
) -> ServerSentEvent:
    """Runner heartbeats (the latest of each runner first, then live)."""
    layout: Layout = request.app.state.layout
    subjects = (f"{layout.prefix}.events.runner.*.heartbeat",)
    spec = TopicSpec("fleet", subjects, layout.events_stream, DeliverPolicy.LAST_PER_SUBJECT)
    return _sse(request, spec, last_event_id)


HANDLERS = [live_run, live_campaign, live_campaign_metrics, live_fleet]
