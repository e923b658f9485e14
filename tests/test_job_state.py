"""Job state: transitions (pure) and the KV store (real NATS) behind the scheduler's tracking."""

from __future__ import annotations

import asyncio
import uuid

from nats.js import JetStreamContext

from llem_control.state import StateStore, transition
from llem_schemas import (
    CampaignCancelled,
    JobQueued,
    JobSpec,
    LlamaCppBackend,
    RunFailed,
    RunStarted,
)
from llem_schemas.events import FailureKind, RunCompleted
from llem_schemas.subjects import Layout
from tests import events

JOB = JobSpec(
    job_id=uuid.uuid4(), campaign_id=uuid.uuid4(), pool="cpu", backend=LlamaCppBackend(model_path="/m")
)
QUEUED = JobQueued(job=JOB)


def _started(attempt: int, runner: str = "r1") -> RunStarted:
    return events.started(JOB, attempt, runner)


def _failed(attempt: int, retryable: bool, kind: FailureKind = "backend_error") -> RunFailed:
    return events.failed(JOB, attempt, retryable, kind)


def _completed(attempt: int) -> RunCompleted:
    return events.completed(JOB, attempt)


def _walk(*events: object, max_attempts: int = 3) -> str | None:
    state = None
    for event in events:
        state = transition(state, event, max_attempts) or state  # type: ignore[arg-type]
    return state.status if state else None


def test_a_job_goes_queued_running_completed_and_replays_change_nothing() -> None:
    q = transition(None, QUEUED, 3)
    assert q is not None and q.status == "queued"
    assert transition(q, QUEUED, 3) is None, "a resubmit changes nothing"
    r = transition(q, _started(1), 3)
    assert r is not None and (r.status, r.attempt, r.runner_id) == ("running", 1, "r1")
    done = _completed(1)
    c = transition(r, done, 3)
    assert c is not None and c.status == "completed"
    assert transition(c, done, 3) is None and transition(c, _failed(1, True), 3) is None


def test_retryable_failures_requeue_until_the_attempt_limit() -> None:
    assert _walk(QUEUED, _started(1), _failed(1, retryable=True)) == "queued"
    assert (
        _walk(
            QUEUED,
            _started(1),
            _failed(1, True),
            _started(2),
            _failed(2, True),
            _started(3),
            _failed(3, True),
        )
        == "failed"
    )
    assert _walk(QUEUED, _started(1), _failed(1, retryable=False)) == "failed"


def test_older_and_superseded_attempts_never_override_the_newer_one() -> None:
    assert _walk(QUEUED, _started(2, "b"), _failed(1, False)) == "running", (
        "attempt 1 ended after attempt 2 began"
    )
    assert _walk(QUEUED, _started(2, "b"), _failed(2, False, kind="superseded")) == "running"
    assert _walk(QUEUED, _started(1), _completed(1), _started(2)) == "completed"


def test_cancel_ends_unfinished_jobs_only() -> None:
    cancel = CampaignCancelled(campaign_id=JOB.campaign_id, reason="operator")
    assert _walk(QUEUED, cancel) == "cancelled"
    assert _walk(QUEUED, _started(1), _completed(1), cancel) == "completed"


async def test_store_applies_events_once_and_concurrent_writers_agree(
    js: JetStreamContext, layout: Layout
) -> None:
    kv = await js.key_value(layout.job_state_kv.bucket)
    store_a, store_b = StateStore(kv, 3), StateStore(kv, 3)
    assert (await store_a.apply(JOB.job_id, QUEUED)) is not None
    assert await store_b.apply(JOB.job_id, QUEUED) is None
    started = _started(1)
    results = await asyncio.gather(store_a.apply(JOB.job_id, started), store_b.apply(JOB.job_id, started))
    assert sum(r is not None for r in results) == 1, "compare-and-set: exactly one writer applied it"
    state, revision = await store_a.get(JOB.job_id)
    assert state is not None and state.status == "running" and revision == 2
    assert list(await store_a.all()) == [JOB.job_id]


async def test_listing_every_state_is_reliable_right_after_writes(
    js: JetStreamContext, layout: Layout
) -> None:
    """nats-py's KeyValue.keys() can come back empty right after writes (its watcher's init race);
    the store lists keys from the bucket's stream instead."""
    kv = await js.key_value(layout.job_state_kv.bucket)
    store = StateStore(kv, 3)
    jobs = [JOB.model_copy(update={"job_id": uuid.uuid4()}) for _ in range(4)]
    for job in jobs:
        await store.apply(job.job_id, JobQueued(job=job))
    for _ in range(10):
        assert set(await store.all()) == {j.job_id for j in jobs}
