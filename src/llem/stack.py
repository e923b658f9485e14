"""The local stack: nats-server, PostgreSQL + TimescaleDB, ingest, API and one runner, as processes.

State (ports, pids, log paths) lives in `<data_dir>/stack.json`, so `up` is idempotent and `down`
stops exactly what `up` started. Used by `make demo`; tests use the same server classes directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg

from llem.devstack import NatsServer, PostgresServer
from llem.devstack.ports import free_port, port_open, wait_until
from llem_control.authdir import AuthDir
from llem_control.bootstrap import bootstrap
from llem_control.connection import NatsSettings, connect
from llem_ingest.migrate import migrate
from llem_schemas.subjects import Layout

DEFAULT_DATA_DIR = Path(os.environ.get("LLEM_DATA_DIR", ".data")).resolve()
WEB_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"  # what `make web` builds
SERVICES = ("scheduler", "ingest", "api", "runner")
LOCAL_RUNNER = "local-runner"


@dataclass
class StackState:
    data_dir: str
    nats_port: int
    nats_monitor_port: int
    nats_pid: int
    pg_port: int
    api_port: int
    prefix: str = "llem"
    pool: str = "default"
    service_pids: dict[str, int] = field(default_factory=dict)

    @property
    def nats_url(self) -> str:
        return f"nats://127.0.0.1:{self.nats_port}"

    @property
    def auth(self) -> AuthDir:
        """The stack's NATS users: every process connects as its own (the operator as admin)."""
        return AuthDir(Path(self.data_dir) / "nats")

    def seed(self, service: str = "admin") -> str:
        auth = self.auth
        if service == "runner":
            user = auth.user(LOCAL_RUNNER, self.prefix, "runner")
        else:
            user = auth.user(service, self.prefix, service)
        assert user is not None, f"no NATS user for {service}: llem stack down, then up"
        return str(auth.seed_path(user))

    def nats_settings(self) -> NatsSettings:
        return NatsSettings(nats_url=self.nats_url, nats_nkey_seed=self.seed())

    @property
    def database_url(self) -> str:
        return f"postgresql://llem@127.0.0.1:{self.pg_port}/llem"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def env(self, service: str = "admin") -> dict[str, str]:
        """The variables of one process of the stack (`admin`: the operator's CLI)."""
        web = {"LLEM_WEB_DIR": str(WEB_DIST)} if (WEB_DIST / "index.html").is_file() else {}
        return {
            **web,
            "LLEM_NATS_URL": self.nats_url,
            "LLEM_NATS_NKEY_SEED": self.seed(service),
            "LLEM_NATS_DIR": str(self.auth.path),
            "LLEM_DATABASE_URL": self.database_url,
            "LLEM_PREFIX": self.prefix,
            "LLEM_POOLS": json.dumps([self.pool]),
            "LLEM_API_PORT": str(self.api_port),
            "LLEM_RUNNER_ID": LOCAL_RUNNER,
            "LLEM_MODEL_DIR": str(Path(self.data_dir) / "models"),
        }


def _state_path(data_dir: Path) -> Path:
    return data_dir / "stack.json"


def load_state(data_dir: Path = DEFAULT_DATA_DIR) -> StackState | None:
    path = _state_path(data_dir)
    return StackState(**json.loads(path.read_text())) if path.is_file() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _ensure_database(pg: PostgresServer) -> None:
    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'llem'").fetchone():
            conn.execute("CREATE DATABASE llem")


async def _bootstrap_streams(state: StackState) -> None:
    nc = await connect(state.nats_settings(), name="llem-stack")
    try:
        await bootstrap(nc.jetstream(), Layout(state.prefix), [state.pool])
    finally:
        await nc.close()


def _spawn(name: str, args: list[str], state: StackState, logs: Path) -> int:
    env = {**os.environ, **state.env(name)}
    with (logs / f"{name}.log").open("ab") as log:
        proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return proc.pid


def up(data_dir: Path = DEFAULT_DATA_DIR) -> StackState:
    state = load_state(data_dir)
    if state and _alive(state.nats_pid) and all(_alive(p) for p in state.service_pids.values()):
        return state
    if state:
        down(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    logs = data_dir / "logs"
    logs.mkdir(exist_ok=True)
    # secure by default: the stack's server has the same accounts and scoped users as a deployment
    auth = AuthDir(data_dir / "nats")
    auth.init("llem")
    if auth.user(LOCAL_RUNNER, "llem", "runner") is None:
        auth.add_runner(LOCAL_RUNNER, ["default"], "nats://127.0.0.1:4222", "llem")
    nats_server = NatsServer(auth.path, auth=True).start()
    try:
        pg = PostgresServer(data_dir / "postgres").start()
    except Exception:
        nats_server.stop()  # leave nothing running behind a failed start
        raise
    assert nats_server.pid is not None
    state = StackState(
        data_dir=str(data_dir),
        nats_port=nats_server.port,
        nats_monitor_port=nats_server.monitor_port,
        nats_pid=nats_server.pid,
        pg_port=pg.port,
        api_port=free_port(),
    )
    _state_path(data_dir).write_text(json.dumps(asdict(state), indent=2))
    _ensure_database(pg)
    migrate(state.database_url)
    asyncio.run(_bootstrap_streams(state))
    bin_dir = Path(sys.executable).parent
    state.service_pids = {
        "scheduler": _spawn("scheduler", [str(bin_dir / "llem-scheduler"), "run"], state, logs),
        "ingest": _spawn("ingest", [str(bin_dir / "llem-ingest"), "run"], state, logs),
        "api": _spawn("api", [str(bin_dir / "llem-api"), "run"], state, logs),
        "runner": _spawn("runner", [str(bin_dir / "llem-runner"), "run"], state, logs),
    }
    _state_path(data_dir).write_text(json.dumps(asdict(state), indent=2))
    wait_until(lambda: port_open(state.api_port), 30, "llem-api")
    return state


def _terminate(*pids: int, timeout_s: float = 10) -> None:
    """SIGTERM to every process group at once, then SIGKILL to whatever outlives the timeout."""
    for pid in pids:
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
        for pid in pids:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
    for pid in pids:
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)


def down(data_dir: Path = DEFAULT_DATA_DIR) -> bool:
    state = load_state(data_dir)
    if state is None:
        return False
    _terminate(*state.service_pids.values())
    PostgresServer(data_dir / "postgres").stop()
    _terminate(state.nats_pid)
    _state_path(data_dir).unlink()
    return True
