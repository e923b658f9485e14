"""The live topics the SSE streams follow: their subjects (named by `Layout`, as the publishers'
are), the stream holding their history, and which history a client joining gets first."""

from __future__ import annotations

from uuid import UUID

from nats.js.api import DeliverPolicy

from llem_api.live import TopicSpec
from llem_schemas.subjects import Layout

LATEST = DeliverPolicy.LAST_PER_SUBJECT  # job states, progress, heartbeats: only the last one counts


def run_metrics(layout: Layout, run_id: UUID) -> TopicSpec:
    """One run's metric batches, every one of them."""
    return TopicSpec(f"run:{run_id}", layout.run_metrics_subjects(run_id), layout.metrics_stream)


def campaign(layout: Layout, campaign_id: UUID) -> TopicSpec:
    """One campaign's progress, job states and runs' lifecycle, the latest of each."""
    subjects = layout.campaign_live_subjects(campaign_id)
    return TopicSpec(f"campaign:{campaign_id}", subjects, layout.events_stream, LATEST)


def campaign_metrics(layout: Layout, campaign_id: UUID) -> TopicSpec:
    """The metric batches of every run of one campaign, the last of each run."""
    subjects = layout.campaign_metrics_subjects(campaign_id)
    return TopicSpec(f"campaign-metrics:{campaign_id}", subjects, layout.metrics_stream, LATEST)


def fleet(layout: Layout) -> TopicSpec:
    """Every runner's heartbeats, the latest of each."""
    return TopicSpec("fleet", layout.fleet_subjects, layout.events_stream, LATEST)
