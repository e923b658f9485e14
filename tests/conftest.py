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
from llem_control.authdir import AuthDir
from llem_control.bootstrap import bootstrap
from llem_ingest.migrate import migrate
from llem_runner.tinymodel import write_tiny_model
from llem_schemas.subjects import Layout

from .natsauth import MONITOR_ENV, SeedOf, ensure_services, service_seed

#: the chaos suite (tests/chaos) runs only from `make chaos`, which sets LLEM_CHAOS=1
collect_ignore = [] if os.environ.get("LLEM_CHAOS") else ["chaos"]


@pytest.fixture(scope="session")
def infra_dir() -> Iterator[Path]:
    # Not pytest's tmp_path: its parents are 0700, and PostgreSQL runs as another user when we are root.
    path = Path(tempfile.mkdtemp(prefix="llem-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def nats_auth(infra_dir: Path) -> AuthDir:
    """The session server's users: admin for the tests' own clients, scoped users per test prefix
    and per runner (tests/natsauth.py adds them as processes start)."""
    auth = AuthDir(infra_dir / "nats")
    auth.init("llem")
    return auth


@pytest.fixture(scope="session")
def nats_server(nats_auth: AuthDir) -> Iterator[NatsServer]:
    server = NatsServer(nats_auth.path, auth=True).start()
    yield server
    server.stop()
    # every service and runner ran as its scoped user all session: none may have been refused
    refused = [line for line in server.log_path.read_text().splitlines() if "Violation" in line]
    assert not refused, "scoped users were refused:\n" + "\n".join(refused[:20])


@pytest.fixture(scope="session")
def admin_seed(nats_auth: AuthDir) -> str:
    return str(nats_auth.seed_path("admin"))


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
async def nc(nats_server: NatsServer, admin_seed: str) -> AsyncIterator[NatsClient]:
    client = await nats.connect(nats_server.url, nkeys_seed=admin_seed)
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


@pytest.fixture(scope="session")
def nats_env(nats_server: NatsServer, nats_auth: AuthDir) -> dict[str, str]:
    """How a process reaches the session's server: admin credentials (the `llem` CLI), and where
    `tests.natsauth.with_credentials` finds each service's and runner's own user."""
    return {
        "LLEM_NATS_URL": nats_server.url,
        "LLEM_NATS_NKEY_SEED": str(nats_auth.seed_path("admin")),
        "LLEM_NATS_DIR": str(nats_auth.path),
        MONITOR_ENV: f"http://127.0.0.1:{nats_server.monitor_port}",
    }


@pytest.fixture
def seed_of(nats_auth: AuthDir, nats_env: dict[str, str]) -> SeedOf:
    """The seed file of a service user (role, prefix), for services run in the test's process."""
    return lambda role, prefix: service_seed(nats_auth, role, prefix, nats_env[MONITOR_ENV])


@pytest.fixture
def service_env(
    nats_env: dict[str, str], nats_auth: AuthDir, layout: Layout, database_url: str, tmp_path: Path
) -> dict[str, str]:
    """Environment for service subprocesses pointed at this test's namespace. Admin credentials by
    default (the `llem` CLI); `tests.processes` gives each service and runner its own user."""
    ensure_services(nats_auth, layout.prefix, nats_env[MONITOR_ENV])
    return {
        "LLEM_STATE_DIR": str(tmp_path / "runner-state"),
        **os.environ,
        **nats_env,
        "LLEM_PREFIX": layout.prefix,
        "LLEM_DATABASE_URL": database_url,
        "LLEM_POOLS": '["cpu"]',
        "LLEM_HEARTBEAT_INTERVAL_S": "1",
        # the scheduler declares the layout: it must declare this test's
        "LLEM_JOB_ACK_WAIT_S": str(layout.job_ack_wait_s),
        "LLEM_JOB_MAX_DELIVER": str(layout.job_max_deliver),
        "LLEM_RUNNER_TTL_S": str(layout.runner_ttl_s),
    }
