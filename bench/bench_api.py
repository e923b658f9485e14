"""make bench-api: the API's reads under 50 concurrent clients, on 10,000 runs and 10 million samples.

Seed (skipped when `--data DIR` already holds it): 2,000 configurations (25 models x 4 tasks x 4
concurrencies x 5 GPU setups) x 5 repetitions = 10,000 completed runs, each with 1,000 metric
samples (8, 4, 2 or 1 GPUs at 10 Hz), spread over 60 days so the samples hypertable has its usual
daily chunks. Every run is a `run.started` and a `run.completed` built from the pydantic models
and written by ingest's own `write_events`; the samples are `MetricBatch` models of 50 samples
written by ingest's `write_samples` (the code path of `llem-ingest run`, without the broker, whose
own throughput `make bench-ingest` measures).

Then one `llem-api run` process (uvicorn, one worker, as deployed) serves, in turn, for 20 s each
after 3 s of warm-up, 50 keep-alive clients looping on:
- `leaderboard`: GET /api/leaderboard (no filter: the home page);
- `leaderboard_filtered`: GET /api/leaderboard with a task filter and an ITL constraint;
- `run_timeseries`: GET /api/runs/{id}/timeseries?bucket=1 of a random run (1,000 samples);
- `static_leaderboard`: GET /export/leaderboard.json, the file `llem export` wrote from the same
  database, served by the same process (LLEM_EXPORT_DIR): the floor for the leaderboard.
The leaderboard answers are cached until the runs table changes (nothing changes during the
benchmark), so a second process with the cache off serves `leaderboard_uncached`: the cost of the
first request after each change. The clients are a minimal asyncio HTTP/1.1 reader in this process;
server, database and clients share this host's CPUs. Results: bench/results/api.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from llem.devstack import PostgresServer
from llem.devstack.ports import free_port, port_open
from llem_ingest.migrate import migrate
from llem_ingest.store import SampleBatch, write_events, write_samples
from llem_schemas.events import MetricBatch, RunCompleted, RunStarted
from llem_schemas.jobs import JobSpec, MeasurementProtocol, VllmBackend, Workload
from llem_schemas.measurement import (
    GpuInfo,
    HostFingerprint,
    LatencyStats,
    Measurement,
    MetricSample,
    QualityFlag,
    QualityFlagCode,
    RepetitionResult,
    RunSummary,
)
from llem_schemas.stats import percentile

MODELS = [f"model-{i:02d}" for i in range(25)]
TASKS = ["chat", "summarize", "code", "long-context"]
CONCURRENCY = [1, 4, 16, 64]
# (GPU, count, pool)
GPU_SETUPS = [("NVIDIA H100 80GB HBM3", 8, "h100"), ("NVIDIA H100 80GB HBM3", 1, "h100"),
              ("NVIDIA H200", 4, "h200"), ("NVIDIA A100-SXM4-80GB", 2, "a100"), ("NVIDIA L40S", 1, "l40s")]  # fmt: skip
REPETITIONS = 5
SAMPLES_PER_RUN = 1_000
PER_MESSAGE = 50
SPAN = timedelta(days=60)
CLIENTS = 50
WARMUP_S = 3.0
DURATION_S = 20.0
SEED_VERSION = 1  # bump when the seed changes: a kept database with another version is re-seeded
BIN = Path(sys.executable).parent
OUT = Path(__file__).parent / "results" / "api.json"
CAMPAIGN = uuid.UUID("2b0c6f7e-54a4-4d0e-9a55-6a3c1a7f0b10")
T0 = datetime(2026, 9, 1, tzinfo=UTC)


Config = tuple[str, str, int, str, int, str]
GRID: list[Config] = [
    (m, t, c, gpu, n, pool) for m in MODELS for t in TASKS for c in CONCURRENCY for gpu, n, pool in GPU_SETUPS
]


def run_events(index: int, config: Config, rep: int) -> tuple[RunStarted, RunCompleted]:
    """One completed run of a configuration, with figures that vary plausibly across the grid."""
    model, task, concurrency, gpu, gpus, pool = config
    rng = random.Random(index)  # noqa: S311 (synthetic figures, not a secret)
    config_id = uuid.uuid5(CAMPAIGN, repr(config))
    size = 1 + MODELS.index(model) % 7  # a model "size" class: bigger costs more per token
    job = JobSpec(
        job_id=uuid.uuid5(config_id, f"rep:{rep}"),
        campaign_id=CAMPAIGN,
        pool=pool,
        repetition=rep,
        config_id=config_id,
        model_name=model,
        backend=VllmBackend(
            model=f"org/{model}", tensor_parallel_size=gpus, dtype="bfloat16", max_num_seqs=64
        ),
        workload=Workload(prompt_set=task, num_requests=256, max_output_tokens=256, concurrency=concurrency),
        protocol=MeasurementProtocol(meter="nvml", sampling_period_ms=100),
    )
    start = T0 + SPAN * index / (len(GRID) * REPETITIONS)
    duration = SAMPLES_PER_RUN / gpus * 0.1
    end = start + timedelta(seconds=duration)
    run_id = uuid.uuid5(job.job_id, "run")
    j_per_token = 0.02 * size * gpus / concurrency**0.6 * rng.uniform(0.95, 1.05)
    output_tokens = 256 * 256
    itl_p50 = 8.0 * size / gpus**0.5 * concurrency**0.35 * rng.uniform(0.95, 1.05)
    flags = [QualityFlag(code=QualityFlagCode.THROTTLED, detail="bench")] if rng.random() < 0.05 else []
    started = RunStarted(
        occurred_at=start,
        run_id=run_id,
        job_id=job.job_id,
        campaign_id=CAMPAIGN,
        runner_id=f"box-{index % 40}",
        attempt=1,
        job=job,
        meter="nvml",
        fingerprint=HostFingerprint(
            hostname=f"box-{index % 40}",
            os="Linux 6.8",
            python_version="3.12",
            gpus=[GpuInfo(index=g, name=gpu, uuid=f"GPU-{index % 40}-{g}") for g in range(gpus)],
            backend="vllm",
            model=f"org/{model}",
            llem_version="bench",
        ),
    )
    energy = j_per_token * output_tokens
    summary = RunSummary(
        duration_s=duration,
        requests_total=256,
        requests_failed=0,
        prompt_tokens=256 * 300,
        output_tokens=output_tokens,
        output_tokens_per_s=output_tokens / duration,
        energy_j=energy,
        active_energy_j=energy * 0.8,
        energy_per_output_token_j=j_per_token,
        energy_per_request_j=energy / 256,
        avg_power_w=energy / duration,
        ttft_ms=LatencyStats(p50_ms=itl_p50 * 5, p90_ms=itl_p50 * 8, p95_ms=itl_p50 * 9, p99_ms=itl_p50 * 12),
        itl_ms=LatencyStats(p50_ms=itl_p50, p90_ms=itl_p50 * 1.4, p95_ms=itl_p50 * 1.6, p99_ms=itl_p50 * 2.5),
        repetitions=[
            RepetitionResult(
                repetition=0,
                window_start=start,
                window_end=end,
                duration_s=duration,
                requests=256,
                output_tokens=output_tokens,
                energy_j=energy,
                energy_per_output_token_j=j_per_token,
            )
        ],
        measurement=Measurement(
            meter="nvml",
            sampling_period_ms=100,
            achieved_sampling_hz=10.0,
            energy_source="counter",
            window_start=start,
            window_end=end,
            samples=SAMPLES_PER_RUN,
            warmup_requests=1,
        ),
        quality_flags=flags,
    )
    completed = RunCompleted(
        occurred_at=end,
        run_id=run_id,
        job_id=job.job_id,
        campaign_id=CAMPAIGN,
        runner_id=started.runner_id,
        attempt=1,
        summary=summary,
    )
    return started, completed


def metric_batches(started: RunStarted, completed: RunCompleted) -> list[MetricBatch]:
    gpus = len(started.fingerprint.gpus)
    watts = (completed.summary.avg_power_w or 0) / gpus
    samples = [
        MetricSample(
            sampled_at=started.occurred_at + timedelta(milliseconds=100 * (k // gpus)),
            gpu_index=k % gpus,
            power_w=watts * (0.9 + 0.2 * ((k * 7919) % 100) / 100),
            power_avg_w=watts,
            energy_counter_j=1e6 + (k // gpus) * watts * 0.1,
            temperature_c=55.0 + k % 20,
            gpu_utilization_pct=95.0,
            memory_used_bytes=60 * 2**30,
            sm_clock_mhz=1980.0,
            memory_clock_mhz=2619.0,
        )
        for k in range(SAMPLES_PER_RUN)
    ]
    return [
        MetricBatch(
            occurred_at=samples[min(start + PER_MESSAGE, SAMPLES_PER_RUN) - 1].sampled_at,
            run_id=started.run_id,
            job_id=started.job_id,
            campaign_id=CAMPAIGN,
            runner_id=started.runner_id,
            attempt=1,
            seq=seq,
            meter="nvml",
            sampling_period_ms=100,
            samples=samples[start : start + PER_MESSAGE],
        )
        for seq, start in enumerate(range(0, SAMPLES_PER_RUN, PER_MESSAGE))
    ]


async def seeded(url: str) -> bool:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cur = await conn.execute("SELECT to_regclass('bench_seed') IS NOT NULL")
        if not (row := await cur.fetchone()) or not row[0]:
            return False
        cur = await conn.execute("SELECT version, runs, samples FROM bench_seed")
        done = await cur.fetchone()
    return done is not None and done[0] == SEED_VERSION


async def seed(url: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    grid = GRID
    runs = samples = 0
    async with await psycopg.AsyncConnection.connect(url) as conn:
        await conn.execute("DROP TABLE IF EXISTS bench_seed")
        await conn.commit()
        index = 0
        for rep in range(REPETITIONS):
            for chunk in range(0, len(grid), 20):
                events: list[RunStarted | RunCompleted] = []
                batches: list[SampleBatch] = []
                for config in grid[chunk : chunk + 20]:
                    started, completed = run_events(index, config, rep)
                    index += 1
                    events += [started, completed]
                    batches += [SampleBatch.of(b) for b in metric_batches(started, completed)]
                async with conn.transaction():
                    await write_events(conn, events)
                    samples += await write_samples(conn, batches)
                runs += len(events) // 2
                if runs % 1000 == 0:
                    print(
                        f"seeded {runs} runs, {samples} samples, {time.perf_counter() - t0:.0f} s", flush=True
                    )
        await conn.execute("ANALYZE")
        await conn.execute("CREATE TABLE bench_seed (version int, runs int, samples bigint)")
        await conn.execute("INSERT INTO bench_seed VALUES (%s, %s, %s)", (SEED_VERSION, runs, samples))
        await conn.commit()
    return {"runs": runs, "samples": samples, "seconds": round(time.perf_counter() - t0, 1)}


async def counts(url: str) -> dict[str, Any]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cur = await conn.execute(
            "SELECT (SELECT count(*) FROM runs WHERE status = 'completed'),"
            " (SELECT count(*) FROM metric_samples),"
            " (SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_name = 'metric_samples'),"
            " pg_size_pretty(hypertable_size('metric_samples')), current_setting('server_version')"
        )
        row = await cur.fetchone()
        assert row is not None
        ids = await (await conn.execute("SELECT run_id FROM runs")).fetchall()
    return {
        "runs": row[0],
        "samples": row[1],
        "sample_chunks": row[2],
        "samples_size": row[3],
        "postgresql": row[4],
        "ids": ids,
    }


class Client:
    """One keep-alive HTTP/1.1 connection reading Content-Length and chunked bodies."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, int]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port, limit=2**22)
        assert self.reader is not None
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
        status = int((await self.reader.readline()).split()[1])
        length, chunked = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
        if not chunked:
            return status, len(await self.reader.readexactly(length))
        total = 0
        while size := int((await self.reader.readline()).split(b";")[0], 16):
            total += len(await self.reader.readexactly(size + 2)) - 2
        await self.reader.readline()
        return status, total

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def load(port: int, paths: Callable[[], str]) -> dict[str, Any]:
    """CLIENTS connections looping for WARMUP_S + DURATION_S; latencies from the timed part only."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    sizes: list[int] = []
    t_start = time.perf_counter()
    t_measure, t_end = t_start + WARMUP_S, t_start + WARMUP_S + DURATION_S

    async def one() -> None:
        client = Client(port)
        try:
            while (now := time.perf_counter()) < t_end:
                status, size = await client.get(paths())
                done = time.perf_counter()
                if now >= t_measure:
                    latencies.append((done - now) * 1000)
                    statuses[status] = statuses.get(status, 0) + 1
                    sizes.append(size)
        finally:
            client.close()

    await asyncio.gather(*(one() for _ in range(CLIENTS)))
    return {
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / DURATION_S, 1),
        "latency_ms": {
            "p50": round(percentile(latencies, 50), 2),
            "p90": round(percentile(latencies, 90), 2),
            "p99": round(percentile(latencies, 99), 2),
            "max": round(max(latencies), 2),
        },
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "response_bytes_median": sorted(sizes)[len(sizes) // 2],
    }


def export(url: str, out: Path) -> float:
    """`llem export` of the seeded database (the static floor's file); returns its duration."""
    t = time.perf_counter()
    cmd = [str(BIN / "llem"), "export", "--format", "leaderboard", "--out", str(out), "--database", url]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def start_api(url: str, export_dir: Path, log_path: Path, cache: bool) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {
        **os.environ,
        "LLEM_DATABASE_URL": url,
        "LLEM_NATS_URL": "nats://127.0.0.1:1",  # reads only: no NATS needed (start-up gives up after 5 s)
        "LLEM_API_PORT": str(port),
        "LLEM_EXPORT_DIR": str(export_dir),
        "LLEM_LEADERBOARD_CACHE_ENTRIES": "256" if cache else "0",
    }
    with log_path.open("wb") as log:
        api = subprocess.Popen(
            [str(BIN / "llem-api"), "run"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return api, port


async def main(data: Path | None) -> None:
    with tempfile.TemporaryDirectory(prefix="llem-bench-api-") as tmp:
        root = Path(tmp)
        pg = PostgresServer((data or root) / "pg", fast=True).start()
        try:
            with psycopg.connect(pg.dsn(), autocommit=True) as conn:
                if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'llem'").fetchone():
                    conn.execute("CREATE DATABASE llem")
            url = pg.dsn("llem")
            migrate(url)
            seeding: dict[str, Any] = {"reused": True}
            if not await seeded(url):
                seeding = await seed(url)
            db = await counts(url)
            run_ids = [str(r[0]) for r in db.pop("ids")]
            export_dir = root / "export"
            export_s = export(url, export_dir)
            rng = random.Random(0)  # noqa: S311
            scenarios: dict[str, tuple[bool, Callable[[], str]]] = {
                "leaderboard": (True, lambda: "/api/leaderboard"),
                "leaderboard_filtered": (
                    True,
                    lambda: f"/api/leaderboard?task={rng.choice(TASKS)}&max_itl_ms=40&itl_percentile=p99",
                ),
                "run_timeseries": (True, lambda: f"/api/runs/{rng.choice(run_ids)}/timeseries?bucket=1"),
                "static_leaderboard": (True, lambda: "/export/leaderboard.json"),
                # every request computes, as the first one after each change to the runs does
                "leaderboard_uncached": (False, lambda: "/api/leaderboard"),
            }
            results = {}
            for cache in (True, False):
                api, port = start_api(url, export_dir, root / f"api-{cache}.log", cache)
                try:
                    for _ in range(300):
                        if port_open(port):
                            break
                        await asyncio.sleep(0.1)
                    for name, (cached, paths) in scenarios.items():
                        if cached == cache:
                            results[name] = await load(port, paths)
                            print(name, json.dumps(results[name]), flush=True)
                finally:
                    os.killpg(api.pid, signal.SIGTERM)
                    api.wait(30)
        finally:
            if data:
                pg.stop()
            else:
                pg.destroy()
    lb, floor = results["leaderboard"], results["static_leaderboard"]
    result: dict[str, Any] = {
        "benchmark": "api",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": {"machine": platform.machine(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "setup": f"{CLIENTS} keep-alive clients per scenario, {WARMUP_S:.0f} s warm-up then {DURATION_S:.0f} s"
        " timed; one llem-api process (uvicorn, 1 worker), PostgreSQL + TimescaleDB (fsync off: reads only)"
        " and the clients on this host",
        "database": db,
        "seeding": seeding,
        "export_s": round(export_s, 2),
        "scenarios": results,
        "leaderboard_vs_static": {
            "requests_per_s_ratio": round(lb["requests_per_s"] / floor["requests_per_s"], 3),
            "p50_ratio": round(lb["latency_ms"]["p50"] / floor["latency_ms"]["p50"], 2),
            "uncached_requests_per_s_ratio": round(
                results["leaderboard_uncached"]["requests_per_s"] / floor["requests_per_s"], 4
            ),
        },
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="keep the seeded database here and reuse it next time")
    args = parser.parse_args()
    asyncio.run(main(args.data))
