"""Campaign progress: counts per job state and an ETA, computed from the jobs' states (pure)."""

from __future__ import annotations

import statistics
import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from llem_control.campaigns import CampaignRecord
from llem_control.state import JobState
from llem_schemas.events import CampaignProgress, CampaignStatus


def campaign_progress(
    record: CampaignRecord, states: Iterable[JobState], live_runners: int, at: datetime
) -> CampaignProgress:
    """Jobs the scheduler has not seen yet count as queued (the record knows how many were submitted).

    ETA = (queued + running) x mean duration of the completed jobs / live runners of the campaign's
    pools; null before the first completed job or while no runner is alive (it cannot be estimated).
    """
    states = list(states)
    counts = Counter(s.status for s in states)
    total = max(record.job_count, len(states))
    ended = counts["completed"] + counts["failed"] + counts["cancelled"]
    queued = total - ended - counts["running"]
    durations = [
        (s.ended_at - s.started_at).total_seconds()
        for s in states
        if s.status == "completed" and s.started_at is not None and s.ended_at is not None
    ]
    mean = statistics.fmean(durations) if durations else None
    remaining = queued + counts["running"]
    eta = (
        remaining * mean / live_runners
        if mean is not None and live_runners > 0
        else (0.0 if remaining == 0 else None)
    )
    status: CampaignStatus
    if record.cancelled:
        status = "cancelled"
    elif ended == total:
        status = "finished"
    elif counts["running"] or ended:
        status = "running"
    else:
        status = "queued"
    key = f"progress:{status}:{queued}:{counts['running']}:{counts['completed']}:{counts['failed']}:{counts['cancelled']}"
    return CampaignProgress(
        event_id=uuid.uuid5(record.campaign_id, key),
        occurred_at=at,
        campaign_id=record.campaign_id,
        status=status,
        total=total,
        queued=queued,
        running=counts["running"],
        completed=counts["completed"],
        failed=counts["failed"],
        cancelled=counts["cancelled"],
        mean_job_duration_s=mean,
        eta_s=max(0.0, eta) if eta is not None else None,
        live_runners=live_runners,
    )
