"""make bench-ingest: metric samples per second through the real ingest service, against raw COPY.

Per repetition, on a fresh database (PostgreSQL with fsync on, TimescaleDB hypertable as migrated):
- pipeline: N samples in metric.batch events (50 samples per message, as a runner sends them: 8 GPUs,
  every column filled) are published to JetStream while `llem-ingest run` consumes them; timed from
  the first publish until the consumer's ack floor reaches the last message (ingest acks only after
  commit), then the row count is checked;
- raw COPY: the same rows, binary COPY straight into the same hypertable in one transaction, with
  the same psycopg code (the physical limit here, with no idempotence and no broker).
The two run interleaved, `pipeline` first in even repetitions and second in odd ones.

Then the delay at a steady 10,000 samples/s: 200 messages/s of 50 samples for 20 s; each message's
delay is from its publish (PubAck sequence) to the first moment the consumer's ack floor covers it
(polled every 10 ms, so the figures carry up to 10 ms of polling granularity).

Results: bench/results/ingest.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nats
import psycopg
from nats.aio.client import Client as NatsClient

from llem.devstack import NatsServer, PostgresServer
from llem_control.bootstrap import bootstrap
from llem_ingest.migrate import migrate
from llem_ingest.store import SampleBatch, copy_rows, sample_rows
from llem_schemas.events import MetricBatch
from llem_schemas.measurement import MetricSample
from llem_schemas.stats import percentile
from llem_schemas.subjects import Layout

SAMPLES = 200_000
PER_MESSAGE = 50
GPUS = 8
REPS = 3
STEADY_RATE = 10_000  # samples/s
STEADY_S = 20
BIN = Path(sys.executable).parent
OUT = Path(__file__).parent / "results" / "ingest.json"


def batches(n_samples: int, t0: datetime, runs: int = 20) -> list[MetricBatch]:
    """Realistic batches: per run, 8 GPUs sampled every 100 ms, every column filled."""
    out: list[MetricBatch] = []
    per_run = n_samples // runs
    cid = uuid.uuid4()
    for r in range(runs):
        run_id, job_id = uuid.uuid4(), uuid.uuid4()
        samples = [
            MetricSample(
                sampled_at=t0 + timedelta(milliseconds=100 * (k // GPUS)),
                gpu_index=k % GPUS,
                power_w=300.0 + k % 97,
                power_avg_w=310.0,
                energy_counter_j=1000.0 + k * 30.0,
                temperature_c=60.0,
                gpu_utilization_pct=95.0,
                memory_used_bytes=40 * 2**30,
                sm_clock_mhz=1980.0,
                memory_clock_mhz=2619.0,
                requests_completed_total=k // 40,
                prompt_tokens_total=k * 3,
                output_tokens_total=k * 5,
            )
            for k in range(per_run)
        ]
        for seq, start in enumerate(range(0, per_run, PER_MESSAGE)):
            out.append(
                MetricBatch(
                    run_id=run_id,
                    job_id=job_id,
                    campaign_id=cid,
                    runner_id=f"bench-{r}",
                    attempt=1,
                    seq=seq,
                    meter="nvml",
                    sampling_period_ms=100,
                    samples=samples[start : start + PER_MESSAGE],
                )
            )
    return out


def spread(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median": statistics.median(ordered), "min": ordered[0], "max": ordered[-1]}


def fresh_database(pg: PostgresServer) -> str:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = pg.dsn(name)
    migrate(url)
    return url


def drop_database(pg: PostgresServer, url: str) -> None:
    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {url.rsplit('/', 1)[1]} WITH (FORCE)")


def count(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM metric_samples").fetchone()
    return int(row[0]) if row else 0


class Ingest:
    """`processes` llem-ingest processes on the same durable consumers."""

    def __init__(self, env: dict[str, str], logs: Path, processes: int = 1) -> None:
        self.env, self.logs, self.processes = env, logs, processes

    def __enter__(self) -> Ingest:
        self.procs = []
        with (self.logs / "ingest.log").open("ab") as log:
            for _ in range(self.processes):
                self.procs.append(
                    subprocess.Popen(
                        [str(BIN / "llem-ingest"), "run"],
                        env=self.env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        return self

    def __exit__(self, *_: object) -> None:
        for proc in self.procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


async def ack_floor(nc: NatsClient, layout: Layout) -> int:
    info = await nc.jetstream().consumer_info(layout.metrics_stream, "ingest-metrics")
    return int(info.ack_floor.stream_seq)


async def publish_wire(js: Any, wire: list[tuple[str, bytes, dict[str, str]]]) -> int:
    """Publish pre-serialised messages (the benchmark times ingest, not the publisher's encoding)."""
    last = 0
    for start in range(0, len(wire), 256):
        acks = await asyncio.gather(*(js.publish(s, p, headers=h) for s, p, h in wire[start : start + 256]))
        last = max(last, *(a.seq for a in acks))
    return last


async def pipeline(
    nc: NatsClient, pg: PostgresServer, env: dict[str, str], logs: Path, processes: int = 1
) -> dict[str, Any]:
    layout = Layout(f"b{uuid.uuid4().hex[:10]}")
    url = fresh_database(pg)
    events = batches(SAMPLES, datetime(2026, 1, 1, tzinfo=UTC))
    await bootstrap(nc.jetstream(), layout)
    try:
        with Ingest({**env, "LLEM_PREFIX": layout.prefix, "LLEM_DATABASE_URL": url}, logs, processes):
            await asyncio.sleep(2)  # the service is up and its pull request waiting
            wire = [
                (layout.subject_for(e), e.model_dump_json().encode(), {"Nats-Msg-Id": str(e.event_id)})
                for e in events
            ]
            t0 = time.perf_counter()
            last = await publish_wire(nc.jetstream(), wire)
            publish_s = time.perf_counter() - t0
            while True:
                if await ack_floor(nc, layout) >= last:
                    break
                await asyncio.sleep(0.01)
            elapsed = time.perf_counter() - t0
        rows = count(url)
        assert rows == SAMPLES, f"{rows} rows for {SAMPLES} samples"
    finally:
        drop_database(pg, url)
        await drop(nc, layout)
    return {
        "samples": SAMPLES,
        "messages": len(events),
        "publish_s": publish_s,
        "elapsed_s": elapsed,
        "samples_per_s": SAMPLES / elapsed,
    }


async def raw_copy_async(pg: PostgresServer) -> dict[str, Any]:
    url = fresh_database(pg)
    rows = sample_rows([SampleBatch.of(b) for b in batches(SAMPLES, datetime(2026, 1, 1, tzinfo=UTC))])
    try:
        async with await psycopg.AsyncConnection.connect(url) as conn:
            t0 = time.perf_counter()
            async with conn.transaction():
                await copy_rows(conn, "metric_samples", rows)
            elapsed = time.perf_counter() - t0
        assert count(url) == SAMPLES
    finally:
        drop_database(pg, url)
    return {"samples": SAMPLES, "elapsed_s": elapsed, "samples_per_s": SAMPLES / elapsed}


async def steady(nc: NatsClient, pg: PostgresServer, env: dict[str, str], logs: Path) -> dict[str, Any]:
    layout = Layout(f"b{uuid.uuid4().hex[:10]}")
    url = fresh_database(pg)
    per_s = STEADY_RATE // PER_MESSAGE
    events = batches(STEADY_RATE * STEADY_S, datetime(2026, 1, 1, tzinfo=UTC), runs=per_s // 10)
    # interleave runs so that every tick carries batches of several runs, as a fleet would
    events.sort(key=lambda e: (e.seq, str(e.run_id)))
    await bootstrap(nc.jetstream(), layout)
    js = nc.jetstream()
    published: dict[int, float] = {}
    floors: list[tuple[float, int]] = []
    stop = asyncio.Event()

    async def poll() -> None:
        while not stop.is_set():
            floors.append((time.perf_counter(), await ack_floor(nc, layout)))
            await asyncio.sleep(0.01)

    try:
        with Ingest({**env, "LLEM_PREFIX": layout.prefix, "LLEM_DATABASE_URL": url}, logs):
            await asyncio.sleep(2)
            poller = asyncio.create_task(poll())
            t0 = time.perf_counter()
            for i, event in enumerate(events):
                due = t0 + i / per_s
                if (wait := due - time.perf_counter()) > 0:
                    await asyncio.sleep(wait)
                sent = time.perf_counter()
                ack = await js.publish(
                    layout.subject_for(event),
                    event.model_dump_json().encode(),
                    headers={"Nats-Msg-Id": str(event.event_id)},
                )
                published[ack.seq] = sent
            achieved = len(events) * PER_MESSAGE / (time.perf_counter() - t0)
            last = max(published)
            while True:
                if floors and floors[-1][1] >= last:
                    break
                await asyncio.sleep(0.05)
            stop.set()
            await poller
        assert count(url) == len(events) * PER_MESSAGE
    finally:
        drop_database(pg, url)
        await drop(nc, layout)
    delays = []
    k = 0
    for seq in sorted(published):
        while floors[k][1] < seq:
            k += 1
        delays.append((floors[k][0] - published[seq]) * 1000)
    return {
        "target_samples_per_s": STEADY_RATE,
        "achieved_samples_per_s": achieved,
        "messages": len(events),
        "delay_ms": {
            "p50": percentile(delays, 50),
            "p90": percentile(delays, 90),
            "p99": percentile(delays, 99),
            "max": max(delays),
        },
        "poll_granularity_ms": 10,
    }


async def drop(nc: NatsClient, layout: Layout) -> None:
    js = nc.jetstream()
    for spec in layout.streams():
        await js.delete_stream(spec.name)
    for kv in layout.kv_buckets():
        await js.delete_key_value(kv.bucket)


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="llem-bench-ingest-") as tmp:
        root = Path(tmp)
        logs = root / "logs"
        logs.mkdir()
        nats_server = NatsServer(root / "nats").start()
        pg = PostgresServer(root / "postgres").start()  # fsync on: what a deployment runs
        nc = await nats.connect(nats_server.url)
        env = {**os.environ, "LLEM_NATS_URL": nats_server.url}
        pipe, raw, two = [], [], []
        try:
            for rep in range(REPS):
                if rep % 2 == 0:
                    pipe.append(await pipeline(nc, pg, env, logs))
                    raw.append(await raw_copy_async(pg))
                else:
                    raw.append(await raw_copy_async(pg))
                    pipe.append(await pipeline(nc, pg, env, logs))
                two.append(await pipeline(nc, pg, env, logs, processes=2))
            latency = await steady(nc, pg, env, logs)
        finally:
            await nc.close()
            pg.destroy()
            nats_server.stop()
    ratios = [p["samples_per_s"] / r["samples_per_s"] for p, r in zip(pipe, raw, strict=True)]
    result = {
        "benchmark": "ingest",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": {"machine": platform.machine(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "setup": f"{SAMPLES} samples per repetition, {PER_MESSAGE} samples per metric.batch, {GPUS} GPUs per run;"
        " nats-server 2.15.1 (file storage, sync_interval 1s) and PostgreSQL 15 + TimescaleDB 2.19.3"
        " (Apache-2, fsync on) on this host",
        "pipeline_samples_per_s": spread([p["samples_per_s"] for p in pipe]),
        "raw_copy_samples_per_s": spread([r["samples_per_s"] for r in raw]),
        "pipeline_vs_raw_copy": spread(ratios),
        "pipeline_two_processes_samples_per_s": spread([p["samples_per_s"] for p in two]),
        "goal": "pipeline >= 0.5 x raw COPY",
        "repetitions": {"pipeline": pipe, "raw_copy": raw, "pipeline_two_processes": two},
        "steady_10k_samples_per_s": latency,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "repetitions"}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
