"""Live streams: server-sent events bridged from NATS (`streams`, `live`), one topic each (`topics`)."""

from __future__ import annotations

from uuid import UUID

from litestar import Request, Router
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import ServerSentEvent

from llem_api import topics
from llem_api.deps import LiveHub
from llem_api.streams import LastEventId, live_route, sse
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
)
from llem_schemas.subjects import Layout


@live_route("/runs/{run_id:uuid}", MetricBatch)
async def live_run(
    request: Request[object, object, State],
    layout: NamedDependency[Layout],
    hub: LiveHub,
    run_id: FromPath[UUID],
    last_event_id: LastEventId = None,
) -> ServerSentEvent:
    """One run's metric batches: recent history first, then live."""
    return sse(request, hub, topics.run_metrics(layout, run_id), last_event_id)


@live_route(
    "/campaigns/{campaign_id:uuid}",
    CampaignSubmitted,
    CampaignCancelled,
    CampaignProgress,
    JobStatusChanged,
    RunStarted,
    RunCompleted,
    RunFailed,
)
async def live_campaign(
    request: Request[object, object, State],
    layout: NamedDependency[Layout],
    hub: LiveHub,
    campaign_id: FromPath[UUID],
    last_event_id: LastEventId = None,
) -> ServerSentEvent:
    """One campaign: progress, job states and its runs' lifecycle (latest per subject, then live)."""
    return sse(request, hub, topics.campaign(layout, campaign_id), last_event_id)


@live_route("/campaigns/{campaign_id:uuid}/metrics", MetricBatch)
async def live_campaign_metrics(
    request: Request[object, object, State],
    layout: NamedDependency[Layout],
    hub: LiveHub,
    campaign_id: FromPath[UUID],
    last_event_id: LastEventId = None,
) -> ServerSentEvent:
    """The metric batches of every run of one campaign: the last batch of each run, then live."""
    return sse(request, hub, topics.campaign_metrics(layout, campaign_id), last_event_id)


@live_route("/fleet", RunnerHeartbeat)
async def live_fleet(
    request: Request[object, object, State],
    layout: NamedDependency[Layout],
    hub: LiveHub,
    last_event_id: LastEventId = None,
) -> ServerSentEvent:
    """Runner heartbeats (the latest of each runner first, then live)."""
    return sse(request, hub, topics.fleet(layout), last_event_id)


router = Router(path="/api/live", route_handlers=[live_run, live_campaign, live_campaign_metrics, live_fleet])
