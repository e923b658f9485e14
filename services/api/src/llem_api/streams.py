"""Live streams: server-sent events bridged from NATS (see `live`). 503 while NATS is unreachable."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

from litestar import Request, get
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import ServerSentEvent, ServerSentEventMessage
from nats.js.api import DeliverPolicy

from llem_api.errors import BadRequest, Unavailable
from llem_api.live import Hub, TopicSpec
from llem_api.problems import problems
from llem_schemas.subjects import Layout

ERRORS = problems(400, 503)
SSE = "text/event-stream"


def _last_event_id(request: Request[object, object, State]) -> int | None:
    raw = request.headers.get("last-event-id")
    if raw is None:
        return None
    if not raw.isdigit():
        raise BadRequest(f"Last-Event-ID must be a non-negative integer, got {raw!r}")
    return int(raw)


def _sse(request: Request[object, object, State], spec: TopicSpec) -> ServerSentEvent:
    hub: Hub | None = request.app.state.get("hub")
    if hub is None:
        raise Unavailable("live streams need NATS, which this API process could not reach at start-up")
    last = _last_event_id(request)

    async def messages() -> AsyncIterator[ServerSentEventMessage]:
        async for item in hub.stream(spec, last):
            yield ServerSentEventMessage(data=item.data, id=str(item.id), event=item.event)

    return ServerSentEvent(messages())


@get("/api/live/runs/{run_id:uuid}", media_type=SSE, responses=ERRORS)
async def live_run(request: Request[object, object, State], run_id: FromPath[UUID]) -> ServerSentEvent:
    """One run's metric batches: recent history first, then live."""
    layout: Layout = request.app.state.layout
    subject = f"{layout.prefix}.metrics.*.{run_id}"
    return _sse(request, TopicSpec(f"run:{run_id}", (subject,), layout.metrics_stream))


@get("/api/live/campaigns/{campaign_id:uuid}", media_type=SSE, responses=ERRORS)
async def live_campaign(
    request: Request[object, object, State], campaign_id: FromPath[UUID]
) -> ServerSentEvent:
    """One campaign: progress, job states and its runs' lifecycle (latest per subject, then live)."""
    layout: Layout = request.app.state.layout
    p = layout.prefix
    subjects = (f"{p}.events.campaign.{campaign_id}.>", f"{p}.events.job.{campaign_id}.*.status",
                f"{p}.events.run.{campaign_id}.>")  # fmt: skip
    return _sse(
        request,
        TopicSpec(f"campaign:{campaign_id}", subjects, layout.events_stream, DeliverPolicy.LAST_PER_SUBJECT),
    )


@get("/api/live/fleet", media_type=SSE, responses=ERRORS)
async def live_fleet(request: Request[object, object, State]) -> ServerSentEvent:
    """Runner heartbeats (the latest of each runner first, then live)."""
    layout: Layout = request.app.state.layout
    subjects = (f"{layout.prefix}.events.runner.*.heartbeat",)
    return _sse(request, TopicSpec("fleet", subjects, layout.events_stream, DeliverPolicy.LAST_PER_SUBJECT))


HANDLERS = [live_run, live_campaign, live_fleet]
