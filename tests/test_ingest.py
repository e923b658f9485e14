"""Ingest on real NATS and PostgreSQL/TimescaleDB: every event type into its rows, replays change
nothing, kill -9 mid-batch loses and duplicates nothing, PostgreSQL stopped under load loses
nothing, two processes share one durable consumer, malformed payloads are dead-lettered."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nats
import psycopg
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from llem.devstack import PostgresServer
from llem.devstack.ports import free_port
from llem_control.bootstrap import bootstrap
from llem_ingest.migrate import migrate
from llem_ingest.retention import drop_old_samples, license_of
from llem_schemas import (
    CampaignCancelled,
    CampaignProgress,
    CampaignSubmitted,
    JobQueued,
    JobSpec,
    JobStatusChanged,
    LlamaCppBackend,
    MetricBatch,
    MetricSample,
    RequestBatch,
    RequestRecord,
    RunnerHeartbeat,
)
from llem_schemas.base import Event
from llem_schemas.subjects import Layout
from tests import events
from tests.processes import service
from tests.waiting import db_rows, wait_for

CID = uuid.uuid4()
JOB = JobSpec(job_id=uuid.uuid4(), campaign_id=CID, pool="cpu", backend=LlamaCppBackend(model_path="/m.gguf"))
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def metric_batches(
    run_id: uuid.UUID, messages: int, per_message: int = 50, gpus: int = 8
) -> list[MetricBatch]:
    out = []
    for seq in range(messages):
        samples = [
            MetricSample(
                sampled_at=T0 + timedelta(milliseconds=100 * ((seq * per_message + k) // gpus)),
                gpu_index=(seq * per_message + k) % gpus,
                power_w=250.0 + k,
                energy_counter_j=float(seq * per_message + k),
                temperature_c=55.0,
                throttle_reasons=4,
                output_tokens_total=seq * per_message + k,
            )
            for k in range(per_message)
        ]
        out.append(
            MetricBatch(
                run_id=run_id,
                job_id=JOB.job_id,
                campaign_id=CID,
                runner_id="r1",
                attempt=1,
                seq=seq,
                meter="nvml",
                sampling_period_ms=100,
                samples=samples,
            )
        )
    return out


async def publish(js: JetStreamContext, layout: Layout, items: list[Event]) -> int:
    last = 0
    for start in range(0, len(items), 200):
        acks = await asyncio.gather(
            *(
                js.publish(
                    layout.subject_for(e),
                    e.model_dump_json().encode(),
                    headers={"Nats-Msg-Id": str(e.event_id)},
                )
                for e in items[start : start + 200]
            )
        )
        last = max(last, *(a.seq for a in acks))
    return last


async def acked_through(js: JetStreamContext, layout: Layout, stream: str, durable: str, seq: int) -> bool:
    info = await js.consumer_info(stream, durable)
    return bool(info.ack_floor.stream_seq >= seq and info.num_pending == 0 and info.num_ack_pending == 0)


async def pulling(js: JetStreamContext, layout: Layout, processes: int = 1) -> bool:
    """The metrics consumer holds pull requests from at least this many ingest processes."""
    info = await js.consumer_info(layout.metrics_stream, "ingest-metrics")
    return (info.num_waiting or 0) >= processes


def one_of_each() -> list[Event]:
    run_id = uuid.uuid4()
    started = events.started(JOB, 1, run_id=run_id)
    completed = events.completed(JOB, 1).model_copy(update={"run_id": run_id})
    failed_job = JOB.model_copy(update={"job_id": uuid.uuid4()})
    return [
        CampaignSubmitted(campaign_id=CID, name="round-trip", job_count=2, spec={"pools": [{"name": "cpu"}]}),
        JobQueued(job=JOB),
        JobQueued(job=failed_job),
        JobStatusChanged(
            job_id=JOB.job_id,
            campaign_id=CID,
            pool="cpu",
            status="running",
            attempt=1,
            runner_id="r1",
            revision=2,
        ),
        started,
        *metric_batches(run_id, 3),
        RequestBatch(
            run_id=run_id,
            job_id=JOB.job_id,
            campaign_id=CID,
            runner_id="r1",
            attempt=1,
            seq=0,
            requests=[
                RequestRecord(
                    repetition=0,
                    index=i,
                    started_at=T0,
                    output_tokens=4,
                    e2e_ms=10.0 + i,
                    ttft_ms=2.0,
                    energy_j=1.5,
                )
                for i in range(3)
            ],
        ),
        completed,
        events.failed(failed_job, 1, retryable=False),
        CampaignProgress(
            campaign_id=CID,
            status="running",
            total=2,
            queued=0,
            running=0,
            completed=1,
            failed=1,
            cancelled=0,
            live_runners=1,
        ),
        RunnerHeartbeat(
            runner_id="r1",
            hostname="h",
            pools=["cpu"],
            started_at=T0,
            heartbeat_interval_s=1,
            llem_version="0",
        ),
        CampaignCancelled(campaign_id=CID, reason="done testing"),
    ]


SNAPSHOT = {
    "campaigns": "SELECT campaign_id, name, job_count, cancel_reason, status, progress FROM campaigns",
    "jobs": "SELECT job_id, repetition, spec, status, status_revision, attempt, runner_id FROM jobs",
    "runs": "SELECT run_id, job_id, status, attempt, summary, fingerprint, quality_flags, failure_reason,"
    " output_tokens, superseded FROM runs",
    "runners": "SELECT runner_id, hostname, pools, last_seen_at FROM runners",
    "metric_samples": "SELECT run_id, gpu_index, sampled_at, power_w, energy_counter_j, throttle_reasons,"
    " output_tokens_total FROM metric_samples",
    "metric_batches": "SELECT run_id, seq, samples FROM metric_batches",
    "dead_letters": "SELECT stream, stream_seq, reason FROM dead_letters",
    "request_samples": "SELECT run_id, repetition, request_index, e2e_ms, energy_j FROM request_samples",
    "run_repetitions": "SELECT run_id, repetition, requests, output_tokens FROM run_repetitions",
}


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    return {table: sorted(db_rows(url, sql), key=repr) for table, sql in SNAPSHOT.items()}


async def test_every_event_type_lands_in_its_rows_and_a_full_replay_changes_nothing(
    js: JetStreamContext, layout: Layout, service_env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    items = one_of_each()
    await publish(js, layout, items)
    last_events = (await js.stream_info(layout.events_stream)).state.last_seq
    last_metrics = (await js.stream_info(layout.metrics_stream)).state.last_seq

    async def drained() -> bool:
        return await acked_through(
            js, layout, layout.events_stream, "ingest-events", last_events
        ) and await acked_through(js, layout, layout.metrics_stream, "ingest-metrics", last_metrics)

    with service("llem-ingest", ["run"], service_env, tmp_path):
        await wait_for(drained, 30, "every event acked")
    first = snapshot(database_url)
    [campaign] = first["campaigns"]
    assert campaign[:5] == (CID, "round-trip", 2, "done testing", "running")
    assert campaign[5]["completed"] == 1 and campaign[5]["failed"] == 1
    jobs = {row[0]: row for row in first["jobs"]}
    assert jobs[JOB.job_id][3:] == ("running", 2, 1, "r1") and jobs[JOB.job_id][2]["pool"] == "cpu"
    runs = {row[2]: row for row in first["runs"]}
    assert set(runs) == {"completed", "failed"}
    assert runs["completed"][4]["output_tokens"] == 4 and runs["completed"][5]["hostname"] == "h"
    assert runs["failed"][7] == "boom"
    assert first["runners"] == [("r1", "h", ["cpu"], items[-2].occurred_at)]
    assert len(first["metric_samples"]) == 150 and all(r[5] == 4 for r in first["metric_samples"])
    assert [r[1:] for r in first["metric_batches"]] == [(0, 50), (1, 50), (2, 50)]
    assert first["dead_letters"] == []
    assert [r[1:] for r in first["request_samples"]] == [(0, i, 10.0 + i, 1.5) for i in range(3)]
    assert [r[1:] for r in first["run_repetitions"]] == [(0, 1, 4)]
    leaderboard = db_rows(
        database_url, "SELECT prompt_set, model_name, gpu_count FROM runs WHERE status = 'completed'"
    )
    assert leaderboard == [("builtin:short", "/m.gguf", 0)]

    # The whole streams again, from the first message: fresh consumers, same rows.
    for stream, durable in (
        (layout.events_stream, "ingest-events"),
        (layout.metrics_stream, "ingest-metrics"),
    ):
        await js.delete_consumer(stream, durable)
    await bootstrap(js, layout)
    with service("llem-ingest", ["run"], service_env, tmp_path):
        await wait_for(drained, 30, "the replay acked")
    assert snapshot(database_url) == first


@pytest.mark.layout(ingest_ack_wait_s=3)
async def test_kill_9_mid_batch_then_restart_stores_every_sample_once(
    js: JetStreamContext, layout: Layout, service_env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    batches = [b for r in range(4) for b in metric_batches(uuid.uuid4(), 300)]  # 60,000 samples
    env = {**service_env, "LLEM_BATCH_SIZE": "100"}
    with service("llem-ingest", ["run"], env, tmp_path) as ingest:
        await wait_for(lambda: pulling(js, layout), 60, "ingest pulling")
        last = await publish(js, layout, list(batches))

        def some_rows() -> bool:
            n = db_rows(database_url, "SELECT count(*) FROM metric_samples")[0][0]
            assert isinstance(n, int)
            return 0 < n < 60_000

        await wait_for(some_rows, 30, "ingest part-way through", period_s=0.02)
        os.killpg(ingest.pid, signal.SIGKILL)
        ingest.wait()
    stored_at_kill = db_rows(database_url, "SELECT count(*) FROM metric_samples")[0][0]
    assert isinstance(stored_at_kill, int)
    assert stored_at_kill < 60_000, "killed mid-stream"
    # the unacked batches come back after the consumer's ack wait (3 s in this test's layout)
    with service("llem-ingest", ["run"], env, tmp_path):
        await wait_for(
            lambda: acked_through(js, layout, layout.metrics_stream, "ingest-metrics", last),
            90,
            "ack floor at the end",
        )
    total, distinct = db_rows(
        database_url, "SELECT count(*), count(DISTINCT (run_id, gpu_index, sampled_at)) FROM metric_samples"
    )[0]
    assert total == distinct == 60_000
    assert db_rows(database_url, "SELECT count(*), sum(samples) FROM metric_batches")[0] == (1200, 60_000)


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test's own: it is stopped and started in the middle. Durable
    settings (fsync, synchronous commit): with the test suite's fast settings an immediate stop loses
    the last commits, which is exactly what this test must not confuse with ingest losing data."""
    server = PostgresServer(tmp_path / "pg").start()
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE llem")
    migrate(server.dsn("llem"))
    yield server
    server.destroy()


async def test_postgres_stopped_under_load_loses_nothing(
    js: JetStreamContext,
    layout: Layout,
    service_env: dict[str, str],
    own_postgres: PostgresServer,
    tmp_path: Path,
) -> None:
    url = own_postgres.dsn("llem")
    port = free_port()
    env = {**service_env, "LLEM_DATABASE_URL": url, "LLEM_METRICS_PORT": str(port)}
    runs = [uuid.uuid4() for _ in range(4)]
    plan = [
        b for seq in range(100) for b in (metric_batches(r, 100)[seq] for r in runs)
    ]  # 400 msgs, 20,000 samples
    last = 0
    outage = asyncio.Event()
    with service("llem-ingest", ["run"], env, tmp_path):
        await wait_for(lambda: pulling(js, layout), 60, "ingest pulling")

        async def load() -> None:
            nonlocal last
            for i in range(0, len(plan), 20):
                if i == len(plan) // 2:
                    await outage.wait()  # the second half goes out while PostgreSQL is down (and after)
                last = await publish(js, layout, list(plan[i : i + 20]))
                await asyncio.sleep(0.5)  # pacing, to keep a steady load on: no synchronisation

        publisher = asyncio.create_task(load())
        await wait_for(lambda: stored(url) > 0, 30, "ingest storing under load")
        before = (await js.stream_info(layout.metrics_stream)).state.last_seq
        await asyncio.to_thread(own_postgres.stop, "immediate")
        outage.set()

        async def outage_seen() -> bool:
            grown = (await js.stream_info(layout.metrics_stream)).state.last_seq > before
            return grown and _scrape(port, "llem_ingest_database_unavailable_total") > 0

        await wait_for(outage_seen, 60, "ingest finding PostgreSQL away while messages come in")
        await asyncio.to_thread(own_postgres.start)
        await publisher
        await wait_for(
            lambda: acked_through(js, layout, layout.metrics_stream, "ingest-metrics", last), 90, "catch-up"
        )
    assert db_rows(
        url, "SELECT count(*), count(DISTINCT (run_id, gpu_index, sampled_at)) FROM metric_samples"
    )[0] == (
        20_000,
        20_000,
    )


def stored(url: str) -> int:
    return db_rows(url, "SELECT count(*) FROM metric_samples")[0][0]  # type: ignore[return-value]


def _scrape(port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    match = re.search(rf"^{name} ([0-9.e+]+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


async def test_two_ingest_processes_share_the_durable_consumer_without_duplicates(
    js: JetStreamContext, layout: Layout, service_env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    ports = [free_port(), free_port()]
    envs = [{**service_env, "LLEM_METRICS_PORT": str(p), "LLEM_BATCH_SIZE": "20"} for p in ports]
    batches = [b for _ in range(4) for b in metric_batches(uuid.uuid4(), 250)]  # 50,000 samples
    logs = [tmp_path / "a", tmp_path / "b"]
    for d in logs:
        d.mkdir()
    with (
        service("llem-ingest", ["run"], envs[0], logs[0]),
        service("llem-ingest", ["run"], envs[1], logs[1]),
    ):
        await wait_for(lambda: pulling(js, layout, 2), 60, "both ingest processes pulling")
        last = await publish(js, layout, list(batches))
        await wait_for(
            lambda: acked_through(js, layout, layout.metrics_stream, "ingest-metrics", last), 60, "all acked"
        )
        shares = [_scrape(p, "llem_ingest_samples_total") for p in ports]
    assert db_rows(database_url, "SELECT count(*) FROM metric_samples")[0][0] == 50_000
    assert sum(shares) == 50_000, "every sample written by exactly one process"
    assert all(s > 0 for s in shares), f"both processes took batches: {shares}"


async def test_a_message_over_the_size_limit_is_refused_at_publish_and_ingest_goes_on(
    js: JetStreamContext,
    nc: NatsClient,
    layout: Layout,
    service_env: dict[str, str],
    database_url: str,
    tmp_path: Path,
) -> None:
    """A 10 MB payload never reaches a stream: the server's max_payload refuses it at the door (the
    publisher gets the error), so there is nothing to dead-letter; ingest keeps storing the rest."""
    with pytest.raises(nats.errors.MaxPayloadError):
        await js.publish(layout.metrics_subject("r1", CID, uuid.uuid4()), b"x" * (10 * 1024 * 1024))
    bad = metric_batches(uuid.uuid4(), 1)[0].model_dump(mode="json")
    bad["samples"][0]["power_w"] = -5  # valid JSON, invalid sample: refused by both decoders
    await js.publish(layout.metrics_subject(bad["runner_id"], CID, bad["run_id"]), json.dumps(bad).encode())
    good = metric_batches(uuid.uuid4(), 2)
    last = await publish(js, layout, list(good))
    with service("llem-ingest", ["run"], service_env, tmp_path):
        await wait_for(
            lambda: acked_through(js, layout, layout.metrics_stream, "ingest-metrics", last), 30, "acked"
        )
    assert db_rows(database_url, "SELECT count(*) FROM metric_samples")[0][0] == 100
    reasons = db_rows(database_url, "SELECT reason FROM dead_letters")
    assert len(reasons) == 1 and "samples.0.power_w" in str(reasons[0][0])


async def test_retention_drops_old_sample_chunks_on_the_apache_build(database_url: str) -> None:
    old, recent = uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        assert await license_of(conn) == "apache", "the test suite runs Debian's Apache-2 TimescaleDB"
        for run_id, at in ((old, now - timedelta(days=30)), (recent, now - timedelta(hours=1))):
            await conn.execute(
                "INSERT INTO metric_samples (sampled_at, run_id, gpu_index, meter) VALUES (%s, %s, 0, 'nvml')",
                (at, run_id),
            )
            await conn.execute(
                "INSERT INTO metric_batches (run_id, seq, samples) VALUES (%s, 0, 1)", (run_id,)
            )
        await conn.commit()
        assert await drop_old_samples(conn, days=7) == 1
        await conn.commit()
    assert db_rows(database_url, "SELECT run_id FROM metric_samples") == [(recent,)]
