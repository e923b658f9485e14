"""Live streams: server-sent events bridged from NATS (see `live`). 503 while NATS is unreachable."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from functools import reduce
from inspect import getdoc
from operator import or_
from typing import Annotated, Any
from uuid import UUID

from litestar import Request, get
from litestar.datastructures import State
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from nats.js.api import DeliverPolicy

from llem_api.dto import DroppedNotice
from llem_api.errors import BadRequest, Unavailable
from llem_api.live import DROPPED, EVENT_ID_PATTERN, EventId, Hub, TopicSpec
from llem_api.problems import problems
from llem_schemas.base import Event
from llem_schemas.events import (
    CampaignCancelled,
    CampaignProgress,
    CampaignSubmitted,
    JobStatusChanged,
    MetricBatch,
    RunCompleted,
    RunFailed,
    RunnerHeartbeat,
    RunStarted,
    event_type_name,
)
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


def messages_of(*events: type[Event]) -> dict[str, type[Any]]:
    """A live stream's SSE messages: `event` name -> the model of its `data`."""
    return {**{event_type_name(e): e for e in events}, DROPPED: DroppedNotice}


def _live(path: str, *events: type[Event]) -> Callable[[Callable[..., Any]], HTTPRouteHandler]:
    """`@get` for an SSE route whose messages carry these events: its documented 200 response is a
    `oneOf` of their models (components derived from the models themselves, like every other), and
    its description names the model of each `event`."""
    messages = messages_of(*events)
    listing = "; ".join(f"`{name}`: {model.__name__}" for name, model in messages.items())
    about = (
        f"A `{SSE}` stream. Each SSE message's `event` is the event's `type` and its `data` is the"
        f" event's JSON exactly as published on NATS, by `event`: {listing}. `dropped` says how"
        " many older messages this (slow) client lost. The first message, a `retry` hint, has no data."
    )
    ok = ResponseSpec(
        reduce(or_, messages.values()),  # a Union: `oneOf` the message models
        description=f"The messages' `data`, one of: {', '.join(m.__name__ for m in messages.values())}.",
        media_type=SSE,
        generate_examples=False,
    )

    def decorate(fn: Callable[..., Any]) -> HTTPRouteHandler:
        return get(
            path,
            media_type=SSE,
            description=f"{getdoc(fn)}\n\n{about}",
            responses={200: ok, **ERRORS},
        )(fn)

    return decorate


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


@_live("/api/live/runs/{run_id:uuid}", MetricBatch)
async def live_run(
    request: Request[object, object, State], run_id: FromPath[UUID], last_event_id: LastEventId = None
) -> ServerSentEvent:
    """One run's metric batches: recent history first, then live."""
    layout: Layout = request.app.state.layout
    subject = f"{layout.prefix}.metrics.*.{run_id}"
    return _sse(request, TopicSpec(f"run:{run_id}", (subject,), layout.metrics_stream), last_event_id)


@_live(
    "/api/live/campaigns/{campaign_id:uuid}",
    CampaignSubmitted,
    CampaignCancelled,
    CampaignProgress,
    JobStatusChanged,
    RunStarted,
    RunCompleted,
    RunFailed,
)
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


@_live("/api/live/campaigns/{campaign_id:uuid}/metrics", MetricBatch)
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


@_live("/api/live/fleet", RunnerHeartbeat)
async def live_fleet(
    request: Request[object, object, State], last_event_id: LastEventId = None
) -> ServerSentEvent:
    """Runner heartbeats (the latest of each runner first, then live)."""
    layout: Layout = request.app.state.layout
    subjects = (f"{layout.prefix}.events.runner.*.heartbeat",)
    spec = TopicSpec("fleet", subjects, layout.events_stream, DeliverPolicy.LAST_PER_SUBJECT)
    return _sse(request, spec, last_event_id)


HANDLERS = [live_run, live_campaign, live_campaign_metrics, live_fleet]
