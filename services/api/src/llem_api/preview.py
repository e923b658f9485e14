"""A campaign's expansion grouped per configuration: what the preview of a spec shows."""

from __future__ import annotations

from collections import Counter
from uuid import UUID

from llem_api.dto import CampaignPreview, DroppedOut, PreviewConfiguration
from llem_control.expand import Expansion
from llem_schemas.campaign import CampaignSpec
from llem_schemas.jobs import JobSpec


def _config_id(job: JobSpec) -> UUID:
    return job.config_id or job.job_id  # expand always sets config_id; a bare job is its own config


def configurations(jobs: list[JobSpec]) -> list[PreviewConfiguration]:
    """One entry per distinct configuration with its job count, ordered by pool, model name, then
    first appearance in the (seeded, so deterministic) job order."""
    counts = Counter(_config_id(job) for job in jobs)
    first: dict[UUID, tuple[int, JobSpec]] = {}
    for index, job in enumerate(jobs):
        first.setdefault(_config_id(job), (index, job))
    ordered = sorted(first.values(), key=lambda pair: (pair[1].pool, pair[1].model_name or "", pair[0]))
    return [
        PreviewConfiguration(
            config_id=_config_id(job),
            pool=job.pool,
            model_name=job.model_name,
            backend=job.backend,
            workload=job.workload,
            protocol=job.protocol,
            jobs=counts[_config_id(job)],
        )
        for _, job in ordered
    ]


def campaign_preview(spec: CampaignSpec, expansion: Expansion) -> CampaignPreview:
    return CampaignPreview(
        campaign_id=expansion.campaign_id,
        name=spec.name,
        job_count=len(expansion.jobs),
        configurations=configurations(expansion.jobs),
        dropped=[DroppedOut(config=d.config, reason=d.reason) for d in expansion.dropped],
    )
