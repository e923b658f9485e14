"""make bench-live: 500 concurrent SSE clients on one run's live stream, 10 Hz x 8-GPU metric batches.

A real `llem-api` process (uvicorn, one worker) bridges the run's NATS subject to its clients; the
clients are plain asyncio connections in this process (a minimal SSE reader, so the client side
costs little next to the server). Each batch carries its publish time (`occurred_at`); a client's
delay is its receipt time minus that. Batches are published through JetStream for 20 s after every
client has its first event. Results: bench/results/live.json. Everything on this 2-core host.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
import psycopg

from llem.devstack import NatsServer, PostgresServer
from llem.devstack.ports import free_port, port_open
from llem_control.bootstrap import bootstrap
from llem_ingest.migrate import migrate
from llem_schemas.events import MetricBatch
from llem_schemas.measurement import MetricSample
from llem_schemas.stats import percentile
from llem_schemas.subjects import Layout

CLIENTS = 500
RATE_HZ = 10
GPUS = 8
SECONDS = 20
BIN = Path(sys.executable).parent
OUT = Path(__file__).parent / "results" / "live.json"


class SseClient:
    def __init__(self, port: int, path: str) -> None:
        self.port, self.path = port, path
        self.delays_ms: list[float] = []
        self.first = asyncio.Event()
        self.dropped = 0

    async def run(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port, limit=2**20)
        writer.write(f"GET {self.path} HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n".encode())
        await writer.drain()
        while (await reader.readline()) not in (b"\r\n", b""):
            pass  # response headers
        event = ""
        try:
            while line := await reader.readline():
                text = line.decode().rstrip("\r\n")
                if text.startswith("event:"):
                    event = text[6:].strip()
                elif text.startswith("data:") and event == "metric.batch":
                    now = time.time()
                    sent = datetime.fromisoformat(json.loads(text[5:])["occurred_at"]).timestamp()
                    self.delays_ms.append((now - sent) * 1000)
                    self.first.set()
                elif text.startswith("data:") and event == "dropped":
                    self.dropped += int(json.loads(text[5:])["dropped"])
        finally:
            writer.close()


def _batch(run_id: uuid.UUID, seq: int) -> MetricBatch:
    now = datetime.now(UTC)
    return MetricBatch(
        occurred_at=now,
        run_id=run_id,
        job_id=uuid.uuid4(),
        campaign_id=uuid.uuid4(),
        runner_id="bench",
        attempt=1,
        seq=seq,
        meter="nvml",
        sampling_period_ms=100,
        samples=[
            MetricSample(
                sampled_at=now, gpu_index=g, power_w=500.0 + g, energy_counter_j=1e6 + seq, temperature_c=60
            )
            for g in range(GPUS)
        ],
    )


def _start_api(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [str(BIN / "llem-api"), "run"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="llem-bench-live-") as tmp:
        root = Path(tmp)
        nats_server = NatsServer(root / "nats").start()
        pg = PostgresServer(root / "pg", fast=True).start()
        with psycopg.connect(pg.dsn(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE llem")
        migrate(pg.dsn("llem"))
        layout = Layout("bench")
        nc = await nats.connect(nats_server.url)
        js = nc.jetstream()
        await bootstrap(js, layout)
        port = free_port()
        env = {
            **os.environ,
            "LLEM_NATS_URL": nats_server.url,
            "LLEM_PREFIX": layout.prefix,
            "LLEM_DATABASE_URL": pg.dsn("llem"),
            "LLEM_API_PORT": str(port),
        }
        api = _start_api(env, root / "api.log")
        try:
            for _ in range(300):
                if port_open(port):
                    break
                await asyncio.sleep(0.1)
            run_id = uuid.uuid4()
            seq = 0
            await js.publish(layout.subject_for(b := _batch(run_id, seq)), b.model_dump_json().encode())
            clients = [SseClient(port, f"/api/live/runs/{run_id}") for _ in range(CLIENTS)]
            tasks = [asyncio.create_task(c.run()) for c in clients]
            await asyncio.wait_for(asyncio.gather(*(c.first.wait() for c in clients)), 120)
            for c in clients:
                c.delays_ms.clear()  # the history message is not a live delay
            t0 = time.perf_counter()
            for i in range(SECONDS * RATE_HZ):
                if (wait := t0 + i / RATE_HZ - time.perf_counter()) > 0:
                    await asyncio.sleep(wait)
                seq += 1
                b = _batch(run_id, seq)
                await js.publish(layout.subject_for(b), b.model_dump_json().encode())
            await asyncio.sleep(2)  # the last ones arrive
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            os.killpg(api.pid, signal.SIGTERM)
            api.wait(30)
            await nc.close()
            pg.destroy()
            nats_server.stop()
    delays = [d for c in clients for d in c.delays_ms]
    expected = CLIENTS * SECONDS * RATE_HZ
    result: dict[str, Any] = {
        "benchmark": "live",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": {"machine": platform.machine(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "setup": f"{CLIENTS} SSE clients on one run; {RATE_HZ} Hz metric batches of {GPUS} GPU samples for"
        f" {SECONDS} s; one llem-api process (uvicorn), nats-server and the clients on this host",
        "delivered": len(delays),
        "expected": expected,
        "dropped_reported": sum(c.dropped for c in clients),
        "delay_ms": {
            "p50": percentile(delays, 50),
            "p90": percentile(delays, 90),
            "p99": percentile(delays, 99),
            "max": max(delays),
        },
        "goal": "p99 < 100 ms",
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
