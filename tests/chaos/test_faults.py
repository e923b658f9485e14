"""Faults under load against the whole stack, each counted in the reliability ledger.

One stack for the module (tests/chaos/stack.py). Each test runs its own campaign of JOBS tiny-model
jobs on the two runners with a metric load beside it, injects one fault (or several at once) once
the campaign is under way, heals it, measures the recovery (healed -> every acknowledged sample
stored and the next run completed) and audits the ledger (tests/chaos/workload.py). A test fails
on anything lost, duplicated or unexpected, or on a process that died.
"""

from __future__ import annotations

import asyncio
import re
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from llem_runner.publisher import EventPublisher
from llem_runner.spool import Spool
from llem_schemas.subjects import Layout
from tests.waiting import wait_for

from .ledger import Outcome, record
from .stack import POOL, ChaosStack, chaos_stack
from .workload import Campaign, MetricLoad, audit

pytestmark = pytest.mark.e2e
JOBS = 30


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, infra_dir: Path, tiny_model: Path
) -> Iterator[ChaosStack]:
    layout = Layout(prefix=f"x{uuid.uuid4().hex[:10]}", job_ack_wait_s=6, runner_ttl_s=5, job_max_deliver=20)
    root = infra_dir / "chaos"  # 0755: PostgreSQL runs as another user
    with chaos_stack(root, layout, tiny_model, tmp_path_factory.mktemp("chaos-logs")) as running:
        yield running


@pytest.fixture
async def admin(stack: ChaosStack) -> AsyncIterator[NatsClient]:
    nc = await nats.connect(
        stack.nats.url,
        nkeys_seed=str(stack.auth.seed_path("admin")),
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
    )
    yield nc
    await nc.close()


Fault = Callable[[ChaosStack, JetStreamContext, MetricLoad], Awaitable[dict[str, object]]]


async def under_load(
    stack: ChaosStack, nc: NatsClient, name: str, fault: str, inject: Fault, jobs: int = JOBS
) -> Outcome:
    """Campaign + metric load; `inject` runs once a few runs have completed and returns when the
    fault is healed (with its own findings); then recovery is timed and the ledger audited."""
    js = nc.jetstream()
    campaign = Campaign.of(stack, name, jobs)
    load = MetricLoad(js, stack.layout).start()
    await campaign.submit(js, stack.layout)
    await wait_for(lambda: campaign.completed_runs(stack.database_url) >= 3, 240, "the campaign under way")
    started = time.monotonic()
    observed = await inject(stack, js, load)
    healed = time.monotonic()
    done_at_heal = campaign.completed_runs(stack.database_url)

    def recovered() -> bool:
        moving = campaign.completed_runs(stack.database_url) > done_at_heal or done_at_heal == jobs
        return moving and load.caught_up(stack.database_url)

    await wait_for(recovered, 300, f"the pipeline to catch up after {fault}")
    recovery_s = time.monotonic() - healed
    await load.stop()
    outcome = Outcome(
        fault=fault,
        load=f"{jobs} jobs on 2 runners + metric load {load.rate_hz * load.runs * load.per_batch:.0f} samples/s",
        duration_s=round(healed - started, 1),
        recovery_s=round(recovery_s, 1),
        observed=observed,
    )
    await audit(stack, js, campaign, load, outcome)
    record(outcome)
    stack.check_alive()
    assert outcome.clean, outcome
    return outcome


def _restart(label: str) -> Fault:
    async def inject(stack: ChaosStack, js: JetStreamContext, load: MetricLoad) -> dict[str, object]:
        proc = stack.procs[label]
        proc.kill9()
        proc.start()
        return {}

    return inject


@pytest.mark.parametrize("label", ["scheduler", "ingest-1", "api", "runner-2"], ids=lambda s: f"kill9-{s}")
async def test_kill_9_and_restart_of_a_service(stack: ChaosStack, admin: NatsClient, label: str) -> None:
    await under_load(stack, admin, f"kill-{label}", f"kill -9 of {label}, restarted", _restart(label))
    if label == "api":
        await wait_for(stack.api_ready, 60, "the restarted API ready")


async def test_kill_9_of_nats_server(stack: ChaosStack, admin: NatsClient) -> None:
    async def inject(stack: ChaosStack, js: JetStreamContext, load: MetricLoad) -> dict[str, object]:
        stack.nats.kill()
        await asyncio.to_thread(stack.nats.start)
        return {"sync_interval": stack.nats.sync_interval}

    await under_load(stack, admin, "kill-nats", "kill -9 of nats-server (store on disk), restarted", inject)


def _paused(label: str, hold: Callable[[ChaosStack, JetStreamContext], Awaitable[None]]) -> Fault:
    async def inject(stack: ChaosStack, js: JetStreamContext, load: MetricLoad) -> dict[str, object]:
        proc = stack.procs[label]
        proc.pause()
        paused = time.monotonic()
        try:
            await hold(stack, js)
        finally:
            proc.resume()
        return {"paused_s": round(time.monotonic() - paused, 1)}

    return inject


async def _job_redelivered(stack: ChaosStack, js: JetStreamContext) -> None:
    """Paused past AckWait: the work queue hands the paused runner's job to another delivery."""
    consumer = stack.layout.pool_consumer(POOL).durable_name
    before = await _redelivered(js, stack.layout.jobs_stream, consumer)
    await wait_for(
        lambda: _more_redelivered(js, stack.layout.jobs_stream, consumer, before), 120, "a job redelivered"
    )


async def _ingest_redelivered(stack: ChaosStack, js: JetStreamContext) -> None:
    """Paused past ingest's AckWait: the batches it held are delivered to the other ingest."""
    before = await _redelivered(js, stack.layout.metrics_stream, "ingest-metrics")
    await wait_for(
        lambda: _more_redelivered(js, stack.layout.metrics_stream, "ingest-metrics", before),
        120,
        "batches redelivered",
    )


async def _redelivered(js: JetStreamContext, stream: str, consumer: str | None) -> int:
    names = [consumer] if consumer else [c.name for c in await js.consumers_info(stream)]
    return sum([(await js.consumer_info(stream, n)).num_redelivered for n in names])


async def _more_redelivered(js: JetStreamContext, stream: str, consumer: str | None, before: int) -> bool:
    return await _redelivered(js, stream, consumer) > before


async def test_sigstop_of_a_runner_past_ack_wait(stack: ChaosStack, admin: NatsClient) -> None:
    await under_load(
        stack, admin, "stop-runner", "SIGSTOP of runner-2 until its job was redelivered (past AckWait), then SIGCONT",
        _paused("runner-2", _job_redelivered),
    )  # fmt: skip


async def test_sigstop_of_ingest(stack: ChaosStack, admin: NatsClient) -> None:
    await under_load(
        stack, admin, "stop-ingest", "SIGSTOP of ingest-1 until its batches were redelivered (past AckWait), then SIGCONT",
        _paused("ingest-1", _ingest_redelivered),
    )  # fmt: skip


def _network(which: str, action: str, hold_s: float = 8.0) -> Fault:
    async def inject(stack: ChaosStack, js: JetStreamContext, load: MetricLoad) -> dict[str, object]:
        proxy = stack.nats_proxy if which == "nats" else stack.pg_proxy
        if action == "blackhole":
            proxy.blackhole()
        elif action == "delay":
            proxy.delay(0.2, 0.15)
        else:
            proxy.reset()
        await asyncio.sleep(hold_s)  # the fault's duration
        if action == "reset":
            proxy.reset()  # and once more, to the connections made meanwhile
        proxy.heal()
        return {"connections": proxy.proxy.connections}

    return inject


@pytest.mark.parametrize(
    ("which", "action"),
    [(w, a) for w in ("nats", "pg") for a in ("blackhole", "delay", "reset")],
    ids=lambda v: str(v),
)
async def test_network_faults(stack: ChaosStack, admin: NatsClient, which: str, action: str) -> None:
    between = "runner-1 and NATS" if which == "nats" else "ingest-1 and PostgreSQL"
    what = {
        "blackhole": "blackholed 8 s",
        "delay": "200 ms +/- 150 ms latency for 8 s",
        "reset": "connections reset",
    }
    await under_load(
        stack,
        admin,
        f"net-{which}-{action}",
        f"TCP between {between}: {what[action]}",
        _network(which, action),
    )


async def test_postgres_stopped_for_30_s(stack: ChaosStack, admin: NatsClient) -> None:
    async def inject(stack: ChaosStack, js: JetStreamContext, load: MetricLoad) -> dict[str, object]:
        await asyncio.to_thread(stack.postgres.stop, "immediate")
        await asyncio.sleep(30)  # the fault's duration
        await asyncio.to_thread(stack.postgres.start)
        return {}

    await under_load(stack, admin, "pg-stopped", "PostgreSQL stopped (immediate) for 30 s", inject)


async def test_metrics_stream_full(stack: ChaosStack, admin: NatsClient) -> None:
    async def inject(stack: ChaosStack, js: JetStreamContext, load: MetricLoad) -> dict[str, object]:
        info = await js.stream_info(stack.layout.metrics_stream)
        config, before = info.config, info.config.max_bytes
        config.max_bytes = info.state.bytes + 64 * 1024
        await js.update_stream(config)
        try:
            await wait_for(lambda: load.refusals["stream full"] >= 5, 120, "publishers refused: stream full")
            spooled = await wait_for(lambda: _runner_spooled(stack), 120, "a runner spooling its batches")
        finally:
            config.max_bytes = before
            await js.update_stream(config)
        return {"load_refused": load.refusals["stream full"], "runner_spooled_lines": spooled}

    await under_load(
        stack, admin, "stream-full", "metrics stream full (max_bytes reached, discard new)", inject
    )


def _runner_spooled(stack: ChaosStack) -> int:
    return sum(
        p.log_path.read_text().count("spooled:") for k, p in stack.procs.items() if k.startswith("runner")
    )


async def test_spool_replayed_after_the_duplicate_window(
    stack: ChaosStack, admin: NatsClient, tmp_path: Path
) -> None:
    async def inject(stack: ChaosStack, js: JetStreamContext, load: MetricLoad) -> dict[str, object]:
        name = stack.layout.metrics_stream
        await wait_for(lambda: len(load.acked) >= 20, 60, "acknowledged load batches to replay")
        replay = [load.batch(run, seq) for run in range(load.runs) for seq in range(5)]
        info = await js.stream_info(name)
        config, window = info.config, info.config.duplicate_window
        config.duplicate_window = 1.0
        await js.update_stream(config)
        try:
            probe = replay[0]

            async def window_passed() -> bool:  # the server takes the same msg id as new again
                ack = await js.publish(
                    stack.layout.subject_for(probe), probe.model_dump_json().encode(),
                    headers={"Nats-Msg-Id": str(probe.event_id)},
                )  # fmt: skip
                return not ack.duplicate

            await wait_for(window_passed, 30, "the duplicate window to expire", period_s=0.5)
            spool = Spool(tmp_path / "spool.jsonl", 1024 * 1024)
            publisher = EventPublisher(stack.layout, _raw(js), spool)
            for batch in replay:
                spool.append(publisher._message(batch))
            sent = await publisher.flush_spool()
        finally:
            config.duplicate_window = window
            await js.update_stream(config)
        return {"replayed": sent + 1, "duplicate_window_s": 1.0}

    await under_load(stack, admin, "replay", "a spool replayed after the duplicate window expired", inject)


def _raw(js: JetStreamContext) -> Callable[[bytes, str, str, str], Awaitable[object]]:
    async def publish(payload: bytes, subject: str, stream: str, msg_id: str) -> object:
        return await js.publish(subject, payload, stream=stream, headers={"Nats-Msg-Id": msg_id})

    return publish


def _libfaketime() -> list[str]:
    return sorted(str(p) for p in Path("/usr/lib").glob("*/faketime/libfaketime.so.1"))


async def test_a_runner_whose_clock_is_10_minutes_off(stack: ChaosStack, admin: NatsClient) -> None:
    lib = _libfaketime()
    assert lib, "libfaketime is missing: scripts/install-chaos.sh installs it (make chaos runs it)"
    skewed = stack.procs["runner-2"]
    plain = dict(skewed.env)

    async def inject(stack: ChaosStack, js: JetStreamContext, load: MetricLoad) -> dict[str, object]:
        skewed.stop()  # gracefully: it finishes its job, then comes back 10 minutes ahead
        skewed.env = {**plain, "LD_PRELOAD": lib[0], "FAKETIME": "+10m", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
        skewed.start()
        return {}

    try:
        await under_load(stack, admin, "clock", "runner-2's clock 10 minutes ahead", inject)
    finally:
        skewed.stop()
        skewed.env = plain
        skewed.start()


async def test_sse_clients_that_never_read(stack: ChaosStack, admin: NatsClient) -> None:
    clients: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def inject(stack: ChaosStack, js: JetStreamContext, load: MetricLoad) -> dict[str, object]:
        for path in ("/api/live/fleet",) * 20 + (f"/api/live/runs/{load.run_ids[0]}",) * 20:
            reader, writer = await asyncio.open_connection("127.0.0.1", stack.api_port)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n".encode())
            await writer.drain()
            clients.append((reader, writer))
        await asyncio.sleep(10)  # the fault's duration: streams go on to clients that never read
        ready = await asyncio.to_thread(_timed_get, f"{stack.api_url}/readyz")
        runs = await asyncio.to_thread(_timed_get, f"{stack.api_url}/api/runs")
        return {"clients": len(clients), "readyz": ready, "runs": runs}

    try:
        outcome = await under_load(stack, admin, "sse", "40 SSE clients that never read", inject)
    finally:
        for _, writer in clients:
            writer.close()
    assert outcome.observed["readyz"][0] == 200 and outcome.observed["runs"][0] == 200  # type: ignore[index]


def _timed_get(url: str) -> tuple[int, float]:
    started = time.monotonic()
    with urllib.request.urlopen(url, timeout=15) as response:
        return int(response.status), round(time.monotonic() - started, 2)


async def test_several_faults_at_once(stack: ChaosStack, admin: NatsClient) -> None:
    async def inject(stack: ChaosStack, js: JetStreamContext, load: MetricLoad) -> dict[str, object]:
        stack.nats_proxy.blackhole()  # runner-1 cut off
        stack.procs["ingest-2"].kill9()
        await asyncio.to_thread(stack.postgres.stop, "immediate")
        await asyncio.sleep(8)  # the faults' duration
        await asyncio.to_thread(stack.postgres.start)
        stack.procs["ingest-2"].start()
        stack.nats_proxy.heal()
        return {}

    await under_load(
        stack, admin, "combined", "runner-1 cut + ingest-2 killed + PostgreSQL restarted, at once", inject
    )


def test_no_secret_in_any_log(stack: ChaosStack) -> None:
    """No nkey seed (this stack's, or any string shaped like one) appears in anything it logged."""
    seeds = [p.read_text().strip() for p in stack.auth.path.rglob("*.nk")]
    assert seeds, "the stack's seeds"
    shaped = re.compile(r"S[UAO][A-Z2-7]{56}")
    found = []
    for log in stack.logs():
        text = log.read_text(errors="replace")
        found += [f"{log.name}: a seed of this stack" for s in seeds if s in text]
        found += [f"{log.name}: a seed-shaped string" for _ in shaped.finditer(text)]
    assert not found, found
