"""Scale-out on an existing engine: a three-node NATS cluster (three nats-server processes on
loopback) with every stream and bucket replicated three times, the scheduler, two ingest processes
and two runners connected to all three nodes with their own scoped users.

Mid-campaign the node leading the jobs stream is killed with SIGKILL, later (once it is back and
caught up) the node leading the metrics stream. Every job must still reach exactly one end state,
and every metric batch the cluster acknowledged must be in the database exactly once. The pauses
(from the kill to a new stream leader, and to the next completed run) are printed: a measurement
to read, not a timed assertion.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from llem.devstack import NatsServer
from llem.devstack.nats import Cluster
from llem.devstack.ports import free_port
from llem_control.authdir import AUTH_CONF, AuthDir
from llem_control.bootstrap import bootstrap
from llem_schemas.subjects import Layout

from .processes import service
from .skeleton import skeleton_jobs, submit
from .waiting import db_rows, wait_for

pytestmark = pytest.mark.e2e
JOBS = 12


@pytest.fixture
def layout() -> Layout:
    return Layout(prefix=f"c{uuid.uuid4().hex[:10]}", replicas=3, job_ack_wait_s=15, runner_ttl_s=10)


@pytest.fixture
def cluster(
    tmp_path_factory: pytest.TempPathFactory, layout: Layout
) -> Iterator[tuple[AuthDir, list[NatsServer]]]:
    root = tmp_path_factory.mktemp("cluster")
    auth = AuthDir(root / "n0")
    auth.init(layout.prefix)
    for name in ("c1", "c2"):
        auth.add_runner(name, ["cpu"], "", layout.prefix)
    routes = [free_port() for _ in range(3)]
    nodes = []
    for i in range(3):
        (root / f"n{i}").mkdir(exist_ok=True)
        if i:
            shutil.copy(auth.path / AUTH_CONF, root / f"n{i}" / AUTH_CONF)
        others = tuple(p for j, p in enumerate(routes) if j != i)
        node = NatsServer(
            root / f"n{i}", auth=True, server_name=f"n{i}", cluster=Cluster("llem", routes[i], others)
        )
        nodes.append(node.start(wait=False))
    for node in nodes:
        node.wait_healthy(60)
    yield auth, nodes
    for node in nodes:
        node.stop()


def _urls(nodes: list[NatsServer]) -> str:
    return ",".join(n.url for n in nodes)


@pytest.fixture
async def admin(cluster: tuple[AuthDir, list[NatsServer]], layout: Layout) -> AsyncIterator[NatsClient]:
    auth, nodes = cluster
    nc = await nats.connect(
        _urls(nodes).split(","), nkeys_seed=str(auth.seed_path("admin")), max_reconnect_attempts=-1
    )
    await wait_for(lambda: _meta_leader(nc.jetstream()), 60, "the cluster to elect its JetStream meta leader")
    await bootstrap(nc.jetstream(), layout, ["cpu"])
    yield nc
    await nc.close()


async def _meta_leader(js: JetStreamContext) -> bool:
    try:
        await js.account_info()
    except Exception:  # 503 or timeout until the nodes have met and elected one
        return False
    return True


async def _leader(js: JetStreamContext, stream: str) -> str | None:
    try:
        info = await js.stream_info(stream)
    except Exception:  # no leader yet: the request fails or times out while the cluster elects one
        return None
    return info.cluster.leader if info.cluster else None


async def _current(js: JetStreamContext, stream: str) -> bool:
    """Every replica of the stream is online and caught up."""
    try:
        info = await js.stream_info(stream)
    except Exception:
        return False
    peers = info.cluster.replicas if info.cluster else None
    return bool(info.cluster and info.cluster.leader and peers and len(peers) == 2) and all(
        p.current and not p.offline for p in peers or []
    )


def _completed(database_url: str) -> int:
    rows = db_rows(database_url, "SELECT count(*) FROM runs WHERE status = 'completed' AND NOT superseded")
    return int(str(rows[0][0]))


async def _kill_leader(
    js: JetStreamContext, nodes: list[NatsServer], stream: str, database_url: str, total: int
) -> tuple[NatsServer, dict[str, object]]:
    leader = await wait_for(lambda: _leader(js, stream), 30, f"a leader of {stream}")
    node = next(n for n in nodes if n.server_name == leader)
    done_before = _completed(database_url)
    assert done_before < total, "the kill must land mid-campaign"
    killed_at = time.monotonic()
    node.kill()
    new = await wait_for(
        lambda: _new_leader(js, stream, leader), 60, f"a new leader of {stream} after killing {leader}"
    )
    elected_s = time.monotonic() - killed_at
    await wait_for(lambda: _completed(database_url) > done_before, 180, "the next run to complete")
    resumed_s = time.monotonic() - killed_at
    pause: dict[str, object] = {"stream": stream, "killed": leader, "new_leader": new}
    return node, {**pause, "elected_s": round(elected_s, 2), "next_run_s": round(resumed_s, 2)}


async def _caught_up(js: JetStreamContext, stream: str) -> None:
    await wait_for(lambda: _current(js, stream), 120, f"every replica of {stream} caught up")


async def _new_leader(js: JetStreamContext, stream: str, old: str) -> str | None:
    leader = await _leader(js, stream)
    return leader if leader and leader != old else None


async def _stored_batches(js: JetStreamContext, layout: Layout) -> set[tuple[str, int, int]]:
    """Every metric batch the metrics stream holds (acknowledged to its runner): (run, seq, samples)."""
    info = await js.stream_info(layout.metrics_stream)
    sub = await js.subscribe(f"{layout.prefix}.metrics.*.*.*", ordered_consumer=True)
    batches = set()
    try:
        remaining = info.state.messages
        while remaining:
            msg = await sub.next_msg(timeout=10)
            remaining = msg.metadata.num_pending
            doc = json.loads(msg.data)
            batches.add((doc["run_id"], int(doc["seq"]), len(doc["samples"])))
    except TimeoutError:
        pass  # no more batches (request batches are the rest of the stream)
    finally:
        await sub.unsubscribe()
    return batches


@pytest.mark.timeout(900)
async def test_a_three_node_cluster_loses_nothing_when_stream_leaders_are_killed(
    cluster: tuple[AuthDir, list[NatsServer]],
    admin: NatsClient,
    layout: Layout,
    database_url: str,
    tiny_model: Path,
    tmp_path: Path,
) -> None:
    auth, nodes = cluster
    js = admin.jetstream()
    base = {
        "LLEM_STATE_DIR": str(tmp_path / "state"),
        **os.environ,
        "LLEM_NATS_URL": _urls(nodes),
        "LLEM_PREFIX": layout.prefix,
        "LLEM_DATABASE_URL": database_url,
        "LLEM_POOLS": '["cpu"]',
        "LLEM_STREAM_REPLICAS": "3",
        "LLEM_JOB_ACK_WAIT_S": str(layout.job_ack_wait_s),
        "LLEM_RUNNER_TTL_S": str(layout.runner_ttl_s),
        "LLEM_HEARTBEAT_INTERVAL_S": "1",
    }

    def env(user: str, role: str = "") -> dict[str, str]:
        found = auth.user(user, layout.prefix, role or user)
        assert found is not None
        return {**base, "LLEM_NATS_NKEY_SEED": str(auth.seed_path(found))}

    # two campaigns, one per kill: the tiny model is fast, a second kill must also land mid-campaign
    campaigns = [
        skeleton_jobs(str(tiny_model), "cpu", name=f"{layout.prefix}-{k}", repetitions=JOBS, num_requests=24)
        for k in ("jobs", "metrics")
    ]
    jobs = [q for _, js_ in campaigns for q in js_]
    pauses: list[dict[str, object]] = []
    killed: NatsServer | None = None
    for log_dir in ("i1", "i2", "r1", "r2"):
        (tmp_path / log_dir).mkdir()
    with ExitStack() as stack:
        stack.enter_context(service("llem-scheduler", ["run"], env("scheduler"), tmp_path))
        for i in (1, 2):
            stack.enter_context(service("llem-ingest", ["run"], env("ingest"), tmp_path / f"i{i}"))
            stack.enter_context(
                service(
                    "llem-runner", ["run", "--runner-id", f"c{i}"], env(f"c{i}", "runner"), tmp_path / f"r{i}"
                )
            )
        for n, ((campaign, queued), leading) in enumerate(
            zip(campaigns, (layout.jobs_stream, layout.metrics_stream), strict=True)
        ):
            if killed is not None:  # back and caught up first: a 3-node cluster has quorum with 2
                killed.start(wait=False)
                killed.wait_healthy(60)
                for name in (layout.jobs_stream, layout.events_stream, layout.metrics_stream):
                    await _caught_up(js, name)
            await submit(js, layout, campaign, queued)
            total = (n + 1) * JOBS
            await wait_for(lambda t=total: _completed(database_url) > t - JOBS, 240, "a first run completed")  # type: ignore[misc]
            killed, pause = await _kill_leader(js, nodes, leading, database_url, total)
            pauses.append(pause)
            await wait_for(lambda t=total: _completed(database_url) >= t, 600, f"all {total} jobs completed")  # type: ignore[misc]

        # every job ends once: one completed, counted run each, and the scheduler's state completed
        done = db_rows(
            database_url,
            "SELECT job_id::text, count(*) FROM runs WHERE status = 'completed' AND NOT superseded GROUP BY job_id",
        )
        assert sorted(str(j) for j, k in done if k == 1) == sorted(str(q.job.job_id) for q in jobs), done
        states = await js.key_value(layout.job_state_kv.bucket)

        async def status(job_id: str) -> str:
            try:  # the scheduler records a job when it handles its job.queued: maybe not yet
                return str(json.loads((await states.get(job_id)).value or b"{}")["status"])
            except nats.js.errors.KeyNotFoundError:
                return "not recorded yet"

        async def statuses() -> list[str]:
            return [await status(str(q.job.job_id)) for q in jobs]

        # the scheduler may still be retrying events that met the election: it converges, and only once
        await wait_for(lambda: _all_completed(statuses), 120, "the scheduler to record every job completed")

        # every batch the cluster acknowledged is stored, once
        acked = await _stored_batches(js, layout)
        stored = await wait_for(
            lambda: _db_batches(database_url) if _db_batches(database_url) >= acked else None,
            120,
            "ingest to store every acknowledged batch",
        )
        assert acked and stored == acked, "no batch lost, none invented"
        samples = db_rows(database_url, "SELECT count(*) FROM metric_samples")[0][0]
        assert samples == sum(k for _, _, k in acked), "each sample stored once"
    print(json.dumps(pauses, indent=2))


async def _all_completed(statuses: Callable[[], Awaitable[list[str]]]) -> bool:
    return set(await statuses()) == {"completed"}


def _db_batches(database_url: str) -> set[tuple[str, int, int]]:
    rows = db_rows(database_url, "SELECT run_id::text, seq, samples FROM metric_batches")
    return {(str(r), int(str(s)), int(str(n))) for r, s, n in rows}
