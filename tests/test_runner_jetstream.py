"""The runner against a real NATS: crash and redelivery, fencing, network cuts, SIGTERM, liveness.

Real runner processes on the tiny llama.cpp model, real ingest, real TimescaleDB.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from nats.js.kv import KeyValue

from llem.devstack import NatsServer
from llem.devstack.ports import free_port
from llem_runner.fencing import Fence
from llem_schemas import JobCancelRequested, JobQueued, MeasurementProtocol, Workload, parse_event
from llem_schemas.subjects import Layout
from tests.skeleton import skeleton_jobs, submit

from .processes import service
from .tcp_proxy import TcpProxy
from .waiting import db_rows, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture
async def nats_proxy(nats_server: NatsServer) -> AsyncIterator[TcpProxy]:
    """A cuttable TCP path to the test NATS server."""
    proxy = TcpProxy(free_port(), nats_server.port)
    await proxy.start()
    yield proxy
    await proxy.stop()


def _long_job(
    model: Path, name: str, num_requests: int, batch_ms: int = 1000
) -> tuple[object, list[JobQueued]]:
    campaign, jobs = skeleton_jobs(str(model), "cpu", name=name)
    job = jobs[0].job.model_copy(
        update={
            "workload": Workload(num_requests=num_requests, max_output_tokens=32, ignore_eos=True),
            "protocol": MeasurementProtocol(
                meter="none", warmup_requests=1, metric_batch_max_interval_ms=batch_ms
            ),
        }
    )
    return campaign, [JobQueued(event_id=jobs[0].event_id, job=job)]


async def _first_started(nc: NatsClient, layout: Layout) -> asyncio.Future[dict[str, object]]:
    started: asyncio.Future[dict[str, object]] = asyncio.get_running_loop().create_future()

    async def on_msg(msg) -> None:  # type: ignore[no-untyped-def]
        if not started.done():
            started.set_result(json.loads(msg.data))

    await nc.subscribe(f"{layout.prefix}.events.run.*.*.*.started", cb=on_msg)
    return started


@pytest.mark.layout(job_ack_wait_s=3)
async def test_killed_runner_job_is_redelivered_and_first_attempt_superseded(
    js: JetStreamContext,
    nc: NatsClient,
    layout: Layout,
    tiny_model: Path,
    service_env: dict[str, str],
    database_url: str,
    tmp_path: Path,
) -> None:
    campaign, jobs = _long_job(tiny_model, "crash", num_requests=300)
    started = await _first_started(nc, layout)
    with service("llem-ingest", ["run"], service_env, tmp_path):
        with service("llem-runner", ["run", "--runner-id", "doomed"], service_env, tmp_path) as doomed:
            await submit(js, layout, campaign, jobs)  # type: ignore[arg-type]
            first = await asyncio.wait_for(started, 60)
            os.killpg(doomed.pid, signal.SIGKILL)  # mid-job, no goodbye
        with service("llem-runner", ["run", "--runner-id", "rescuer"], service_env, tmp_path):
            rows = await wait_for(
                lambda: db_rows(
                    database_url,
                    "SELECT runner_id, attempt, status, superseded FROM runs WHERE status = 'completed'",
                ),
                120,
                "the second attempt to complete",
            )
    assert rows == [("rescuer", 2, "completed", False)]
    all_runs = db_rows(
        database_url, "SELECT run_id::text, runner_id, attempt, status, superseded FROM runs ORDER BY attempt"
    )
    assert [r[1:] for r in all_runs] == [("doomed", 1, "running", True), ("rescuer", 2, "completed", False)]
    assert all_runs[0][0] == first["run_id"]
    fence = await Fence.open(nc, layout, "rescuer")
    assert await fence.owns(jobs[0].job.job_id, uuid.UUID(str(all_runs[1][0])))
    consumer = await js.consumer_info(layout.jobs_stream, "pool-cpu")
    assert consumer.num_ack_pending == 0 and consumer.num_pending == 0


async def test_a_network_cut_loses_no_metric_batch(
    js: JetStreamContext,
    nc: NatsClient,
    layout: Layout,
    nats_proxy: TcpProxy,
    tiny_model: Path,
    service_env: dict[str, str],
    database_url: str,
    tmp_path: Path,
) -> None:
    proxy = nats_proxy
    campaign, jobs = _long_job(tiny_model, "cut", num_requests=500, batch_ms=200)
    started = await _first_started(nc, layout)
    runner_env = {**service_env, "LLEM_NATS_URL": f"nats://127.0.0.1:{proxy.listen_port}"}
    with (
        service("llem-ingest", ["run"], service_env, tmp_path),
        service("llem-runner", ["run", "--runner-id", "flaky"], runner_env, tmp_path),
    ):
        await submit(js, layout, campaign, jobs)  # type: ignore[arg-type]
        await asyncio.wait_for(started, 60)
        await asyncio.sleep(0.5)
        await proxy.cut()
        await asyncio.sleep(5)  # longer than the runner's 2 s reconnect wait
        await proxy.start()
        rows = await wait_for(
            lambda: db_rows(database_url, "SELECT run_id FROM runs WHERE status = 'completed'"),
            120,
            "the run to complete after the cut",
        )
        run_id = rows[0][0]
        summary = db_rows(database_url, "SELECT output_tokens FROM runs WHERE run_id = %s", run_id)[0]
        # Every sample of the run arrived: the token counter in the last sample equals the summary's.
        await wait_for(
            lambda: db_rows(
                database_url,
                "SELECT 1 FROM metric_samples WHERE run_id = %s AND output_tokens_total = %s",
                run_id,
                summary[0],
            ),
            30,
            "the last sample",
        )
    batches = await _metric_batches(js, layout)
    seqs = sorted(b["seq"] for b in batches)
    assert seqs == list(range(len(seqs))), (
        f"metric batches missing: {sorted(set(range(max(seqs) + 1)) - set(seqs))}"
    )
    sample_count = sum(len(b["samples"]) for b in batches)
    assert db_rows(database_url, "SELECT count(*) FROM metric_samples WHERE run_id = %s", run_id) == [
        (sample_count,)
    ]


async def _metric_batches(js: JetStreamContext, layout: Layout) -> list[dict[str, Any]]:
    sub = await js.subscribe(f"{layout.prefix}.metrics.>", ordered_consumer=True)
    out = []
    try:
        while True:
            msg = await sub.next_msg(timeout=1)
            doc = json.loads(msg.data)
            if doc["type"] == "metric.batch":  # not the run's per-request records
                out.append(doc)
    except TimeoutError:
        pass
    finally:
        await sub.unsubscribe()
    return out


async def test_sigterm_gives_the_running_job_back(
    js: JetStreamContext,
    nc: NatsClient,
    layout: Layout,
    tiny_model: Path,
    service_env: dict[str, str],
    tmp_path: Path,
) -> None:
    campaign, jobs = _long_job(tiny_model, "sigterm", num_requests=300)
    started = await _first_started(nc, layout)
    events: list[dict[str, object]] = []

    async def on_end(msg) -> None:  # type: ignore[no-untyped-def]
        events.append(json.loads(msg.data))

    await nc.subscribe(f"{layout.prefix}.events.run.*.*.*.failed", cb=on_end)
    await nc.subscribe(f"{layout.prefix}.events.run.*.*.*.completed", cb=on_end)
    env = {**service_env, "LLEM_SHUTDOWN_GRACE_S": "0"}
    with service("llem-runner", ["run", "--runner-id", "polite"], env, tmp_path) as runner:
        await submit(js, layout, campaign, jobs)  # type: ignore[arg-type]
        await asyncio.wait_for(started, 60)
        os.killpg(runner.pid, signal.SIGTERM)
        exit_code = await asyncio.wait_for(asyncio.to_thread(runner.wait), 60)
    assert exit_code == 0, "a clean exit on SIGTERM"
    failed = await wait_for(lambda: [e for e in events if e["type"] == "run.failed"], 10, "run.failed")
    assert failed[0]["failure_kind"] == "shutting_down" and failed[0]["retryable"] is True
    assert failed[0]["runner_id"] == "polite" and failed[0]["attempt"] == 1
    # The job went back to the queue: another runner completes it as the next attempt.
    with service("llem-runner", ["run", "--runner-id", "successor"], service_env, tmp_path):
        done = await wait_for(
            lambda: [e for e in events if e["type"] == "run.completed"], 120, "run.completed"
        )
    assert (done[0]["runner_id"], done[0]["attempt"]) == ("successor", 2)
    consumer = await js.consumer_info(layout.jobs_stream, "pool-cpu")
    assert consumer.num_ack_pending == 0 and consumer.num_pending == 0


@pytest.mark.layout(runner_ttl_s=2)
async def test_heartbeats_show_in_the_fleet_bucket_and_expire(
    js: JetStreamContext, layout: Layout, service_env: dict[str, str], tmp_path: Path
) -> None:
    kv = await js.key_value(layout.runners_kv.bucket)
    env = {**service_env, "LLEM_HEARTBEAT_INTERVAL_S": "0.5"}
    with service("llem-runner", ["run", "--runner-id", "beating"], env, tmp_path):
        entry = await wait_for(lambda: _kv_get(kv, "beating"), 30, "the runner's heartbeat key")
        beat = parse_event(entry)
        assert beat.type == "runner.heartbeat" and beat.pools == ["cpu"]
    await asyncio.sleep(3.5)  # TTL 2 s after the last beat
    assert await _kv_get(kv, "beating") is None


async def _kv_get(kv: KeyValue, key: str) -> bytes | None:
    try:
        return (await kv.get(key)).value
    except NotFoundError:
        return None


async def test_fence_lets_only_the_newest_attempt_own_a_job(
    js: JetStreamContext, nc: NatsClient, layout: Layout
) -> None:
    """Runner a holds attempt 1, runner b attempt 2 (each writes only its own key)."""
    a, b = await Fence.open(nc, layout, "a"), await Fence.open(nc, layout, "b")
    job, run1, run2, run3 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert not await a.owns(job, run1), "nobody owns an unclaimed job"
    assert await a.claim(job, run1, attempt=1)
    assert await b.owns(job, run1), "every runner reads the same owner"
    assert await b.claim(job, run2, attempt=2)
    assert not await a.owns(job, run1), "the first attempt lost the job"
    assert not await a.claim(job, run1, attempt=1), "an older attempt cannot take it back"
    assert await b.owns(job, run2) and await a.owns(job, run2)
    assert await a.claim(job, run3, attempt=3), "runner a takes it back with a newer attempt"
    assert not await b.owns(job, run2)
    assert sorted(c.attempt for c in await a.claims(job)) == [2, 3], "one key per runner"


@pytest.mark.layout(job_ack_wait_s=3)
async def test_a_cut_off_runner_that_lost_its_job_publishes_no_completion(
    js: JetStreamContext,
    nc: NatsClient,
    layout: Layout,
    nats_proxy: TcpProxy,
    tiny_model: Path,
    service_env: dict[str, str],
    database_url: str,
    tmp_path: Path,
) -> None:
    """Runner A is cut off longer than AckWait; the job goes to B (attempt 2). When A comes back and
    finishes, the fence stops its completion: exactly one completed run counts, B's."""
    proxy = nats_proxy
    campaign, jobs = _long_job(tiny_model, "fenced", num_requests=1200)
    started = await _first_started(nc, layout)
    env_a = {**service_env, "LLEM_NATS_URL": f"nats://127.0.0.1:{proxy.listen_port}"}
    with (
        service("llem-ingest", ["run"], service_env, tmp_path),
        service("llem-runner", ["run", "--runner-id", "cut-off"], env_a, tmp_path),
    ):
        await submit(js, layout, campaign, jobs)  # type: ignore[arg-type]
        await asyncio.wait_for(started, 60)
        await proxy.cut()
        with service("llem-runner", ["run", "--runner-id", "takeover"], service_env, tmp_path):
            await wait_for(
                lambda: db_rows(database_url, "SELECT 1 FROM runs WHERE runner_id = 'takeover'"),
                60,
                "the second attempt to start",
            )
            await proxy.start()  # A reconnects while B runs
            await wait_for(
                lambda: db_rows(
                    database_url, "SELECT 1 FROM runs WHERE runner_id = 'cut-off' AND status = 'failed'"
                ),
                180,
                "A to give up its void run",
            )
            await wait_for(
                lambda: db_rows(
                    database_url,
                    "SELECT 1 FROM runs WHERE runner_id = 'takeover' AND status = 'completed'",
                ),
                180,
                "B to complete",
            )
    rows = db_rows(
        database_url, "SELECT runner_id, attempt, status, failure_type, superseded FROM runs ORDER BY attempt"
    )
    assert rows == [("cut-off", 1, "failed", "Superseded", True), ("takeover", 2, "completed", None, False)]


async def test_a_cancel_request_stops_the_job_and_removes_it(
    js: JetStreamContext,
    nc: NatsClient,
    layout: Layout,
    tiny_model: Path,
    service_env: dict[str, str],
    tmp_path: Path,
) -> None:
    campaign, jobs = _long_job(tiny_model, "cancel", num_requests=3000)
    job = jobs[0].job
    started = await _first_started(nc, layout)
    failed: list[dict[str, object]] = []

    async def on_failed(msg) -> None:  # type: ignore[no-untyped-def]
        failed.append(json.loads(msg.data))

    await nc.subscribe(f"{layout.prefix}.events.run.*.*.*.failed", cb=on_failed)
    with service("llem-runner", ["run", "--runner-id", "worker"], service_env, tmp_path) as runner:
        await submit(js, layout, campaign, jobs)  # type: ignore[arg-type]
        await asyncio.wait_for(started, 60)
        cancel = JobCancelRequested(
            job_id=job.job_id, campaign_id=job.campaign_id, runner_id="worker", reason="campaign cancelled"
        )
        await nc.publish(layout.subject_for(cancel), cancel.model_dump_json().encode())
        await wait_for(lambda: failed, 30, "run.failed after the cancel request")
        assert runner.poll() is None, "the runner keeps running; only the job stopped"
    assert failed[0]["failure_kind"] == "cancelled" and failed[0]["retryable"] is False
    info = await js.stream_info(layout.jobs_stream)
    assert info.state.messages == 0, "a cancelled job is terminated, not requeued"
    consumer = await js.consumer_info(layout.jobs_stream, "pool-cpu")
    assert consumer.num_ack_pending == 0 and consumer.num_redelivered == 0
