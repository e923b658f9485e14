"""The scheduler service on real NATS: job states to an end, MaxDeliver, no-runner failures,
cancellation with jobs in every state, kill -9 and restart, and a campaign on two real runners."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import signal
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from llem_control.campaigns import CampaignRecord
from llem_control.expand import expand
from llem_control.progress import campaign_progress
from llem_control.registry import live_runners
from llem_control.state import JobState, StateStore
from llem_control.submit import cancel_campaign, submit_campaign
from llem_schemas.campaign import CampaignSpec
from llem_schemas.events import JobQueued, RunnerHeartbeat
from llem_schemas.subjects import Layout
from tests import events
from tests.processes import service
from tests.waiting import db_rows, wait_for


def _spec(
    model: Path | str, pool: str = "cpu", requests: list[int] | None = None, reps: int = 1
) -> CampaignSpec:
    return CampaignSpec.model_validate(
        {
            "name": f"sched-{uuid.uuid4().hex[:6]}",
            "pools": [{"name": pool, "gpu": False}],
            "models": [{"name": "tiny", "gguf": str(model), "context_limit": 256}],
            "backends": [{"kind": "llama_cpp", "n_ctx": 256, "n_threads": 1}],
            "workload": {"num_requests": requests or [2], "max_output_tokens": 8},
            "protocol": {"meter": "none", "warmup_requests": 0},
            "repetitions": reps,
        }
    )


async def _states(js: JetStreamContext, layout: Layout) -> dict[uuid.UUID, JobState]:
    store = StateStore(await js.key_value(layout.job_state_kv.bucket), layout.job_max_deliver)
    return {job_id: state for job_id, (state, _) in (await store.all()).items()}


async def _stream_events(js: JetStreamContext, layout: Layout, type_: str) -> list[dict[str, Any]]:
    """Every event of one type in the events stream (an ephemeral ordered read)."""
    info = await js.stream_info(layout.events_stream)
    found: list[dict[str, Any]] = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        msg = await js.get_msg(layout.events_stream, seq)
        doc = json.loads(msg.data or b"{}")
        if doc.get("type") == type_:
            found.append(doc)
    return found


@contextmanager
def _scheduler(env: dict[str, str], tmp_path: Path, **extra: str) -> Iterator[Any]:
    with service(
        "llem-scheduler", ["run"], {**env, "LLEM_SWEEP_INTERVAL_S": "0.5", **extra}, tmp_path
    ) as proc:
        yield proc


@pytest.fixture
async def control(nc: NatsClient, layout: Layout) -> AsyncIterator[list[dict[str, Any]]]:
    """Commands the scheduler sends to runner `r1` (a test playing that runner's part)."""
    received: list[dict[str, Any]] = []

    async def _on(msg: Any) -> None:
        received.append(json.loads(msg.data))

    sub = await nc.subscribe(layout.control_subject("r1"), cb=_on)
    yield received
    await sub.unsubscribe()


def test_progress_counts_unseen_jobs_as_queued_and_estimates_from_completed_durations() -> None:
    cid, t0 = uuid.uuid4(), datetime(2026, 1, 1, tzinfo=UTC)
    record = CampaignRecord(campaign_id=cid, name="c", pools=["cpu"], job_count=10, submitted_at=t0)

    def job(status: str, seconds: float | None = None) -> JobState:
        return JobState(
            job_id=uuid.uuid4(),
            campaign_id=cid,
            pool="cpu",
            status=status,
            updated_at=t0,
            started_at=t0 if seconds is not None else None,
            ended_at=t0 + timedelta(seconds=seconds) if seconds is not None else None,
        )

    states = [job("completed", 10), job("completed", 20), job("failed", 1), job("running")]
    p = campaign_progress(record, states, live_runners=2, at=t0)
    assert (p.total, p.queued, p.running, p.completed, p.failed, p.cancelled) == (10, 6, 1, 2, 1, 0)
    assert p.status == "running" and p.mean_job_duration_s == 15
    assert p.eta_s == pytest.approx(7 * 15 / 2)
    assert campaign_progress(record, states, live_runners=0, at=t0).eta_s is None, "no runner: unknown"
    assert campaign_progress(record, [], 1, t0).status == "queued"
    done = campaign_progress(record.model_copy(update={"job_count": 2}), states[:2], 1, t0)
    assert (done.status, done.eta_s) == ("finished", 0.0)
    assert p.event_id == campaign_progress(record, states, 2, t0 + timedelta(1)).event_id, (
        "same counts, same id"
    )


@pytest.mark.layout(job_ack_wait_s=1, job_max_deliver=2)
async def test_a_job_that_exhausts_max_deliver_ends_failed(
    js: JetStreamContext, layout: Layout, service_env: dict[str, str], tmp_path: Path
) -> None:
    """A runner that dies on the job every time (no run event at all): only the server's advisory
    tells the scheduler, which ends the job failed and removes it from the queue."""
    spec = _spec("/models/poison.gguf")
    expansion = expand(spec)
    job = expansion.jobs[0]
    with _scheduler(service_env, tmp_path):
        await submit_campaign(js, layout, spec, expansion)
        sub = await js.pull_subscribe(layout.pool_jobs("cpu"), durable="pool-cpu", stream=layout.jobs_stream)
        for delivery in (1, 2):  # take it and never answer, as a crashing runner would
            msgs = await sub.fetch(1, timeout=10)
            assert msgs[0].metadata.num_delivered == delivery
        # a runner keeps pulling: the server finds the job out of deliveries when it would redeliver
        with pytest.raises(nats.errors.TimeoutError):
            await sub.fetch(1, timeout=3)
        state = await wait_for(
            lambda: _terminal(js, layout, job.job_id), 30, "the job to end after its last delivery"
        )
        assert state.status == "failed" and "MaxDeliver" in (state.reason or "")
        assert (await js.stream_info(layout.jobs_stream)).state.messages == 0, "removed from the queue"
        statuses = [e["status"] for e in await _stream_events(js, layout, "job.status")]
        assert statuses[-1] == "failed"


async def _terminal(js: JetStreamContext, layout: Layout, job_id: uuid.UUID) -> JobState | None:
    state = (await _states(js, layout)).get(job_id)
    return state if state is not None and state.terminal else None


@contextlib.asynccontextmanager
async def _beating(js: JetStreamContext, layout: Layout, runner_id: str, pool: str) -> AsyncIterator[None]:
    """Keep `runner_id` alive in the fleet bucket (a put every 0.3 s) until the block ends.

    A runner the test needs alive must beat for as long as it is needed: with one put, a slow
    machine lets its key expire (TTL) and turns one expected timeout into two.
    """
    runners = await js.key_value(layout.runners_kv.bucket)
    beat = (
        RunnerHeartbeat(
            runner_id=runner_id,
            hostname="h",
            pools=[pool],
            started_at=datetime.now(UTC),
            heartbeat_interval_s=1,
            llem_version="0",
        )
        .model_dump_json()
        .encode()
    )
    await runners.put(runner_id, beat)
    stop = asyncio.Event()

    async def loop() -> None:
        while not stop.is_set():
            await runners.put(runner_id, beat)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.3)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        stop.set()
        await task


async def _live_ids(js: JetStreamContext, layout: Layout) -> list[str]:
    return sorted(r.runner_id for r in await live_runners(js, layout))


@pytest.mark.layout(runner_ttl_s=2)
async def test_a_pool_without_runners_fails_its_jobs_and_vanished_runners_give_jobs_back(
    js: JetStreamContext, layout: Layout, nc: NatsClient, service_env: dict[str, str], tmp_path: Path
) -> None:
    """Pool `ghost` never has a runner: its jobs fail. Pool `cpu` keeps a live runner throughout
    (r1, then r2), so its job never hits the no-runner timeout; r1 stopping its beats (its key
    expires) is what sends r1's running job back to queued."""
    ghost = expand(_spec("/m/ghost.gguf", pool="ghost", requests=[2, 3]))
    busy_spec = _spec("/m/busy.gguf", pool="cpu")
    busy = expand(busy_spec)
    with _scheduler(service_env, tmp_path, LLEM_NO_RUNNER_TIMEOUT_S="3"):
        async with _beating(js, layout, "r2", "cpu"):
            async with _beating(js, layout, "r1", "cpu"):
                assert await _live_ids(js, layout) == ["r1", "r2"]
                await submit_campaign(
                    js, layout, _spec("/m/ghost.gguf", pool="ghost", requests=[2, 3]), ghost
                )
                await submit_campaign(js, layout, busy_spec, busy)
                await js.publish(
                    layout.run_subject("r1", busy.campaign_id, uuid.uuid4(), "started"),
                    events.started(busy.jobs[0], 1, runner="r1").model_dump_json().encode(),
                )
                for job in ghost.jobs:
                    state = await wait_for(
                        functools.partial(_terminal, js, layout, job.job_id), 30, "ghost jobs to fail"
                    )
                    assert state.status == "failed" and "no runner of pool 'ghost'" in (state.reason or "")
                assert (await js.stream_info(layout.jobs_stream)).state.messages == 1, (
                    "ghost queue purged, cpu kept"
                )

                async def running() -> bool:
                    state = (await _states(js, layout)).get(busy.jobs[0].job_id)
                    return state is not None and (state.status, state.runner_id) == ("running", "r1")

                await wait_for(running, 30, "r1's job to be running")

            async def requeued() -> JobState | None:
                state = (await _states(js, layout)).get(busy.jobs[0].job_id)
                return state if state is not None and state.status == "queued" and state.reason else None

            # r1 stops beating: its key expires (bucket TTL) and its running job goes back to queued
            state = await wait_for(requeued, 30, "the vanished runner's job to be queued again")
            assert "r1 vanished" in (state.reason or "")
            assert await _live_ids(js, layout) == ["r2"]
            assert (await js.stream_info(layout.jobs_stream)).state.messages == 1, "the job is still queued"


async def test_cancel_ends_a_campaign_with_jobs_in_every_state(
    js: JetStreamContext,
    layout: Layout,
    nc: NatsClient,
    control: list[dict[str, Any]],
    service_env: dict[str, str],
    tmp_path: Path,
) -> None:
    """Completed and failed jobs keep their end; running ones are told to stop and end cancelled;
    queued ones leave the queue; a run that starts after the cancel is told to stop as well."""
    spec = _spec("/m/cancel.gguf", requests=[2, 3, 4, 5, 6])
    expansion = expand(spec)
    done, broken, running, late, *waiting = expansion.jobs

    async def publish(event: Any) -> None:
        await js.publish(layout.subject_for(event), event.model_dump_json().encode())

    with _scheduler(service_env, tmp_path):
        await submit_campaign(js, layout, spec, expansion)
        sub = await js.pull_subscribe(layout.pool_jobs("cpu"), durable="pool-cpu", stream=layout.jobs_stream)
        msgs = {JobQueued.model_validate_json(m.data).job.job_id: m for m in await sub.fetch(3, timeout=5)}
        assert set(msgs) == {done.job_id, broken.job_id, running.job_id}, "the queue keeps the campaign order"
        for job in (done, broken, running):
            await publish(events.started(job, 1))
        await publish(events.completed(done, 1))
        await msgs[done.job_id].ack_sync()
        await publish(events.failed(broken, 1, retryable=False))
        await msgs[broken.job_id].term()

        async def settled() -> bool:
            s = await _states(js, layout)
            return [s[j.job_id].status for j in (done, broken, running)] == ["completed", "failed", "running"]

        await wait_for(settled, 20, "completed, failed and running states")
        await cancel_campaign(js, layout, expansion.campaign_id, "changed my mind")
        assert (await js.stream_info(layout.jobs_stream)).state.messages == 0, "queued and in-flight purged"

        async def ended() -> dict[uuid.UUID, JobState] | None:
            s = await _states(js, layout)
            return s if all(s[j.job_id].terminal for j in expansion.jobs) else None

        states = await wait_for(ended, 20, "every job to end")
        assert states[done.job_id].status == "completed"
        assert states[broken.job_id].status == "failed"
        for job in (running, late, *waiting):
            assert states[job.job_id].status == "cancelled"
            assert states[job.job_id].reason == "changed my mind"
        await wait_for(
            lambda: [c for c in control if c["job_id"] == str(running.job_id)], 10, "stop for runner"
        )
        # a runner that had taken `late` before the purge starts it now: it is told to stop too
        await publish(events.started(late, 1))
        await wait_for(
            lambda: [c for c in control if c["job_id"] == str(late.job_id)], 10, "stop for the late run"
        )
        assert (await _states(js, layout))[late.job_id].status == "cancelled"

        async def final_progress() -> dict[str, Any] | None:
            found = await _stream_events(js, layout, "campaign.progress")
            return (
                found[-1]
                if found and found[-1]["status"] == "cancelled" and found[-1]["running"] == 0
                else None
            )

        progress = await wait_for(final_progress, 20, "a cancelled progress event")
        assert (progress["completed"], progress["failed"], progress["cancelled"]) == (
            1,
            1,
            len(expansion.jobs) - 2,
        )


def _done_jobs(states: dict[uuid.UUID, JobState], job_ids: set[uuid.UUID]) -> bool:
    return job_ids <= set(states) and all(states[j].terminal for j in job_ids)


async def test_scheduler_kill_9_mid_campaign_then_restart_ends_every_job_once(
    js: JetStreamContext,
    layout: Layout,
    service_env: dict[str, str],
    tiny_model: Path,
    tmp_path: Path,
) -> None:
    spec = _spec(tiny_model, requests=[2, 3, 4], reps=2)
    expansion = expand(spec)
    job_ids = {j.job_id for j in expansion.jobs}
    with service("llem-runner", ["run", "--runner-id", "steady"], service_env, tmp_path):
        with _scheduler(service_env, tmp_path) as scheduler:
            await submit_campaign(js, layout, spec, expansion)

            async def some_done() -> bool:
                return any(s.status == "completed" for s in (await _states(js, layout)).values())

            await wait_for(some_done, 60, "a first completed job")
            os.killpg(scheduler.pid, signal.SIGKILL)  # no shutdown of any kind
            scheduler.wait()
        await asyncio.sleep(2)  # jobs go on running while the scheduler is away
        with _scheduler(service_env, tmp_path):

            async def all_done() -> bool:
                return _done_jobs(await _states(js, layout), job_ids)

            await wait_for(all_done, 120, "every job to end after the restart")
            progress = await wait_for(
                lambda: _last_progress(js, layout, "finished"), 20, "a finished progress event"
            )
    states = await _states(js, layout)
    assert Counter(states[j].status for j in job_ids) == {"completed": len(job_ids)}
    completions = Counter(e["job_id"] for e in await _stream_events(js, layout, "run.completed"))
    assert completions == {str(j): 1 for j in job_ids}, "each job ran to completion exactly once"
    assert progress["completed"] == len(job_ids) and progress["eta_s"] == 0


async def _last_progress(js: JetStreamContext, layout: Layout, status: str) -> dict[str, Any] | None:
    found = await _stream_events(js, layout, "campaign.progress")
    return found[-1] if found and found[-1]["status"] == status else None


async def test_three_configurations_twice_on_two_real_runners_all_ingested(
    js: JetStreamContext,
    layout: Layout,
    service_env: dict[str, str],
    database_url: str,
    tiny_model: Path,
    tmp_path: Path,
) -> None:
    spec = _spec(tiny_model, requests=[2, 3, 4], reps=2)
    expansion = expand(spec)
    assert len(expansion.jobs) == 6 and len({j.config_id for j in expansion.jobs}) == 3
    with (
        _scheduler(service_env, tmp_path),
        service("llem-ingest", ["run"], service_env, tmp_path),
        service("llem-runner", ["run", "--runner-id", "alpha"], service_env, tmp_path),
        service("llem-runner", ["run", "--runner-id", "beta"], service_env, tmp_path),
    ):
        await wait_for(lambda: _two_alive(js, layout), 30, "both runners' heartbeats")
        await submit_campaign(js, layout, spec, expansion)
        await wait_for(lambda: _last_progress(js, layout, "finished"), 120, "the campaign to finish")
        rows: list[tuple[object, ...]] = await wait_for(
            lambda: (
                db_rows(
                    database_url,
                    "SELECT job_id, runner_id, output_tokens FROM runs WHERE campaign_id = %s AND status = 'completed'",
                    expansion.campaign_id,
                )
                if len(db_rows(database_url, "SELECT 1 FROM runs WHERE status = 'completed'")) == 6
                else None
            ),
            30,
            "six completed runs in the database",
        )
        # the scheduler's verdicts reach the database too: every job completed, the campaign finished
        await wait_for(
            lambda: db_rows(
                database_url,
                "SELECT 1 FROM campaigns c WHERE c.campaign_id = %s AND c.status = 'finished'"
                " AND (c.progress->>'completed')::int = 6 AND 6 = (SELECT count(*) FROM jobs j"
                " WHERE j.campaign_id = c.campaign_id AND j.status = 'completed' AND j.spec <> '{}')",
                expansion.campaign_id,
            ),
            30,
            "job states and campaign progress in the database",
        )
    states = await _states(js, layout)
    assert all(states[j.job_id].status == "completed" for j in expansion.jobs)
    assert {r[0] for r in rows} == {j.job_id for j in expansion.jobs}
    assert {r[1] for r in rows} == {"alpha", "beta"}, "both runners took jobs"
    assert all(isinstance(r[2], int) and r[2] > 0 for r in rows)


async def _two_alive(js: JetStreamContext, layout: Layout) -> bool:
    return len(await live_runners(js, layout)) == 2
