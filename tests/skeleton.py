"""Hand-built jobs for runner tests: one llama.cpp job per repetition, published without the
scheduler's expansion (the runner tests tune a job's fields directly). Campaigns from files go
through `llem_control.expand` and `submit_campaign`."""

from __future__ import annotations

import uuid

from nats.js import JetStreamContext

from llem_control.publish import enqueue_job, publish_event
from llem_schemas.events import CampaignSubmitted, JobQueued
from llem_schemas.jobs import JobSpec, LlamaCppBackend, MeasurementProtocol, Workload
from llem_schemas.subjects import Layout

NAMESPACE = uuid.UUID("6f1f3c52-5a8e-4c57-9a43-0d5bde6b7a11")


def skeleton_jobs(
    model_path: str,
    pool: str,
    name: str = "skeleton",
    repetitions: int = 1,
    num_requests: int = 4,
    max_output_tokens: int = 16,
) -> tuple[CampaignSubmitted, list[JobQueued]]:
    campaign_id = uuid.uuid5(NAMESPACE, f"campaign:{name}:{model_path}:{pool}:{repetitions}:{num_requests}")
    jobs = []
    for rep in range(repetitions):
        job_id = uuid.uuid5(campaign_id, f"job:{rep}")
        spec = JobSpec(
            job_id=job_id,
            campaign_id=campaign_id,
            pool=pool,
            repetition=rep,
            backend=LlamaCppBackend(model_path=model_path, n_ctx=256, n_threads=1),
            workload=Workload(num_requests=num_requests, max_output_tokens=max_output_tokens),
            protocol=MeasurementProtocol(meter="auto", sampling_period_ms=100, warmup_requests=1),
        )
        jobs.append(JobQueued(event_id=uuid.uuid5(job_id, "queued"), job=spec))
    campaign = CampaignSubmitted(
        event_id=uuid.uuid5(campaign_id, "submitted"),
        campaign_id=campaign_id,
        name=name,
        description="Walking-skeleton campaign on a tiny random-weight model.",
        job_count=len(jobs),
        spec={"model_path": model_path, "pool": pool, "repetitions": repetitions},
    )
    return campaign, jobs


async def submit(
    js: JetStreamContext, layout: Layout, campaign: CampaignSubmitted, jobs: list[JobQueued]
) -> None:
    await publish_event(js, layout, campaign)
    for job in jobs:
        await enqueue_job(js, layout, job)
