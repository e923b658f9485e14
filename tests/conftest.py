"""Real servers for the whole test session; a clean namespace for each test.

nats-server (JetStream) and PostgreSQL + TimescaleDB start once per session, as child processes on
free ports, with data in a temporary directory. Each test gets its own subject/stream prefix and
its own database, so tests never see each other's data. No mocks of NATS or PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import psycopg
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from llem.devstack import NatsServer, PostgresServer
from llem_control.bootstrap import bootstrap
from llem_ingest.migrate import migrate
from llem_runner.tinymodel import write_tiny_model
from llem_schemas.subjects import Layout


@pytest.fixture(scope="session")
def infra_dir() -> Iterator[Path]:
    # Not pytest's tmp_path: its parents are 0700, and PostgreSQL runs as another user when we are root.
    path = Path(tempfile.mkdtemp(prefix="llem-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def nats_server(infra_dir: Path) -> Iterator[NatsServer]:
    server = NatsServer(infra_dir / "nats").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_server(infra_dir: Path) -> Iterator[PostgresServer]:
    server = PostgresServer(infra_dir / "postgres", fast=True).start()
    yield server
    server.destroy()


@pytest.fixture(scope="session")
def tiny_model(infra_dir: Path) -> Path:
    return write_tiny_model(infra_dir / "models" / "tiny-random.gguf")


@pytest.fixture
def layout(request: pytest.FixtureRequest) -> Layout:
    """A fresh subject/stream namespace for one test; `@pytest.mark.layout(job_ack_wait_s=3)` tunes it."""
    marker = request.node.get_closest_marker("layout")
    return Layout(prefix=f"t{uuid.uuid4().hex[:12]}", **(marker.kwargs if marker else {}))


@pytest.fixture
async def nc(nats_server: NatsServer) -> AsyncIterator[NatsClient]:
    client = await nats.connect(nats_server.url)
    yield client
    await client.close()


@pytest.fixture
async def js(nc: NatsClient, layout: Layout) -> AsyncIterator[JetStreamContext]:
    """JetStream with this test's layout bootstrapped (pool `cpu`); streams deleted afterwards."""
    ctx = nc.jetstream()
    await bootstrap(ctx, layout, ["cpu"])
    yield ctx
    for spec in layout.streams():
        await ctx.delete_stream(spec.name)
    for kv in layout.kv_buckets():
        await ctx.delete_key_value(kv.bucket)


@pytest.fixture
def database_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, migrated database for one test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = postgres_server.dsn(name)
    migrate(url)
    yield url
    with psycopg.connect(postgres_server.dsn(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def service_env(nats_server: NatsServer, layout: Layout, database_url: str, tmp_path: Path) -> dict[str, str]:
    """Environment for service subprocesses pointed at this test's namespace."""
    return {
        "LLEM_STATE_DIR": str(tmp_path / "runner-state"),
        **os.environ,
        "LLEM_NATS_URL": nats_server.url,
        "LLEM_PREFIX": layout.prefix,
        "LLEM_DATABASE_URL": database_url,
        "LLEM_POOLS": '["cpu"]',
        "LLEM_HEARTBEAT_INTERVAL_S": "1",
        # the scheduler declares the layout: it must declare this test's
        "LLEM_JOB_ACK_WAIT_S": str(layout.job_ack_wait_s),
        "LLEM_JOB_MAX_DELIVER": str(layout.job_max_deliver),
        "LLEM_RUNNER_TTL_S": str(layout.runner_ttl_s),
    }
