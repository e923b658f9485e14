"""What watchers subscribe to, by `Layout`, against what publishers publish on (`subject_for`): each
subscription takes exactly the events it is for, of its campaign, run or fleet, and they are all
stored in one stream, whose history a watcher joining late reads."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from llem_schemas import (
    CampaignCancelled,
    CampaignProgress,
    CampaignSubmitted,
    JobQueued,
    JobSpec,
    JobStatusChanged,
    Layout,
    LlamaCppBackend,
    MetricBatch,
    MetricSample,
    RequestBatch,
    RequestRecord,
    RunnerHeartbeat,
)
from llem_schemas.base import Event
from tests import events

LAYOUT = Layout("t-1")
CID, OTHER_CID = uuid.uuid4(), uuid.uuid4()


def _matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: `*` takes one token, a final `>` one or more."""
    p, s = pattern.split("."), subject.split(".")
    for i, token in enumerate(p):
        if token == ">":
            return len(s) > i
        if i >= len(s) or token not in ("*", s[i]):
            return False
    return len(p) == len(s)


def _taken(subjects: tuple[str, ...], event: Event) -> bool:
    return any(_matches(pattern, LAYOUT.subject_for(event)) for pattern in subjects)


def _campaign_events(campaign_id: uuid.UUID, run_id: uuid.UUID | None = None) -> dict[str, Event]:
    """One event of each type a campaign's work publishes, by type (the run's: of `run_id`)."""
    job = JobSpec(
        job_id=uuid.uuid4(), campaign_id=campaign_id, pool="cpu", backend=LlamaCppBackend(model_path="/m")
    )
    run = events.started(job, 1, run_id=run_id)
    ids = {
        "run_id": run.run_id,
        "job_id": job.job_id,
        "campaign_id": campaign_id,
        "runner_id": "r1",
        "attempt": 1,
    }
    record = RequestRecord(repetition=0, index=0, started_at=datetime.now(UTC), output_tokens=1, e2e_ms=1.0)
    found: list[Event] = [
        CampaignSubmitted(campaign_id=campaign_id, name="c", job_count=1),
        CampaignCancelled(campaign_id=campaign_id),
        CampaignProgress(
            campaign_id=campaign_id,
            status="running",
            total=1,
            queued=0,
            running=1,
            completed=0,
            failed=0,
            cancelled=0,
            live_runners=1,
        ),
        JobQueued(job=job),
        JobStatusChanged(
            job_id=job.job_id, campaign_id=campaign_id, pool="cpu", status="running", attempt=1, revision=2
        ),
        run,
        events.completed(job, 1),
        events.failed(job, 1, retryable=False),
        MetricBatch(**ids, seq=0, meter="none", samples=[MetricSample(sampled_at=datetime.now(UTC))]),
        RequestBatch(**ids, seq=0, requests=[record]),
    ]
    return {type(e).__name__: e for e in found}


LIFECYCLE = {"CampaignSubmitted", "CampaignCancelled", "CampaignProgress", "JobStatusChanged", "RunStarted",
             "RunCompleted", "RunFailed"}  # fmt: skip


def test_a_campaigns_live_subjects_take_its_lifecycle_and_nothing_else() -> None:
    subjects = LAYOUT.campaign_live_subjects(CID)
    taken = {name for name, e in _campaign_events(CID).items() if _taken(subjects, e)}
    assert taken == LIFECYCLE, "not JobQueued (the job's status says it), not metrics"
    assert not any(_taken(subjects, e) for e in _campaign_events(OTHER_CID).values())


def test_metrics_subjects_take_a_run_or_a_campaign_s_metric_batches_only() -> None:
    run_id = uuid.uuid4()
    mine, others = _campaign_events(CID, run_id), _campaign_events(OTHER_CID)
    by_run = LAYOUT.run_metrics_subjects(run_id)
    assert {name for name, e in mine.items() if _taken(by_run, e)} == {"MetricBatch"}, "not its requests"
    assert not any(_taken(by_run, e) for e in others.values())
    by_campaign = LAYOUT.campaign_metrics_subjects(CID)
    assert {name for name, e in mine.items() if _taken(by_campaign, e)} == {"MetricBatch"}
    assert not any(_taken(by_campaign, e) for e in others.values())


def test_the_fleet_subjects_take_every_runners_heartbeat_only() -> None:
    beats = [RunnerHeartbeat(runner_id=r, hostname="h", pools=["cpu"], started_at=datetime.now(UTC),
                             heartbeat_interval_s=1, llem_version="0") for r in ("r1", "gpu-2")]  # fmt: skip
    assert all(_taken(LAYOUT.fleet_subjects, beat) for beat in beats)
    assert not any(_taken(LAYOUT.fleet_subjects, e) for e in _campaign_events(CID).values())


@pytest.mark.parametrize(
    "subjects",
    [
        LAYOUT.campaign_live_subjects(CID),
        LAYOUT.run_metrics_subjects(uuid.uuid4()),
        LAYOUT.campaign_metrics_subjects(CID),
        LAYOUT.fleet_subjects,
    ],
)
def test_each_subscription_lies_in_one_stream(subjects: tuple[str, ...]) -> None:
    """Its history is read from that stream: every subject it takes must be stored there."""
    for subject in subjects:
        assert subject.startswith(f"{LAYOUT.prefix}.")
        holders = [s.name for s in LAYOUT.streams() if any(_matches(p, subject) for p in s.subjects)]
        assert len(holders) == 1, (subject, holders)
