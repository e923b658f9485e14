"""The whole llem pipeline as restartable processes, for injecting faults into it.

A nats-server of its own (auth on, store on disk, `sync_interval` as `llem nats init` deploys it),
a PostgreSQL + TimescaleDB of its own with durable settings, the scheduler, two ingest processes,
the API and two runners on the tiny model. Runner r1 reaches NATS and ingest i1 reaches PostgreSQL
through TCP proxies (tests/tcp_proxy.py) that run on a thread of their own, so a fault can be
injected and healed while the test's own event loop is busy or blocked.

Every process connects as its own scoped user; logs append across restarts (`logs()` lists them,
for the suite's secret scan).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import nats
import psycopg

from llem.devstack import NatsServer, PostgresServer
from llem.devstack.ports import free_port
from llem_control.authdir import AuthDir
from llem_control.bootstrap import bootstrap
from llem_ingest.migrate import migrate
from llem_schemas.subjects import Layout
from tests.natsauth import MONITOR_ENV, with_credentials
from tests.processes import BIN
from tests.tcp_proxy import TcpProxy

T = TypeVar("T")
POOL = "cpu"


class ProxyThread:
    """A `TcpProxy` served by an event loop on its own thread; methods are called from any thread."""

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name=f"proxy-{self.port}")
        self._thread.start()
        self.proxy = TcpProxy(self.port, target_port)
        self._call(self.proxy.start())

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(30)

    def _sync(self, fn: Callable[[], None]) -> None:
        async def run() -> None:
            fn()

        self._call(run())

    def blackhole(self) -> None:
        self._sync(self.proxy.blackhole)

    def delay(self, latency_s: float, jitter_s: float) -> None:
        self._sync(lambda: self.proxy.delay(latency_s, jitter_s))

    def reset(self) -> None:
        self._sync(self.proxy.reset)

    def heal(self) -> None:
        self._sync(self.proxy.heal)

    def close(self) -> None:
        self._call(self.proxy.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@dataclass
class Proc:
    """One service process that can be killed, paused and started again with the same settings."""

    label: str
    binary: str
    args: list[str]
    env: dict[str, str]
    log_dir: Path
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.label}.log"

    def start(self) -> Proc:
        assert not self.alive, f"{self.label} is already running"
        with self.log_path.open("ab") as log:
            log.write(f"\n=== chaos: start #{self.starts + 1} of {self.label} ===\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [str(BIN / self.binary), *self.args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None and self.alive, f"{self.label} is not running"
        os.killpg(self.proc.pid, sig)

    def kill9(self) -> None:
        self._signal(signal.SIGKILL)
        assert self.proc is not None
        self.proc.wait(30)

    def pause(self) -> None:
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def restart(self) -> None:
        if self.alive:
            self.kill9()
        self.start()

    def stop(self, grace_s: float = 15) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGCONT)  # a paused process cannot act on SIGTERM
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@dataclass
class ChaosStack:
    root: Path
    layout: Layout
    tiny_model: Path
    log_dir: Path  # kept after the run (pytest's basetemp), unlike `root`
    nats: NatsServer = field(init=False)
    auth: AuthDir = field(init=False)
    postgres: PostgresServer = field(init=False)
    nats_proxy: ProxyThread = field(init=False)  # runner r1 -> NATS
    pg_proxy: ProxyThread = field(init=False)  # ingest i1 -> PostgreSQL
    procs: dict[str, Proc] = field(default_factory=dict)
    api_port: int = field(default_factory=free_port)

    @property
    def database_url(self) -> str:
        return self.postgres.dsn("llem")

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def _env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "LLEM_NATS_URL": self.nats.url,
            "LLEM_NATS_NKEY_SEED": str(self.auth.seed_path("admin")),
            "LLEM_NATS_DIR": str(self.auth.path),
            MONITOR_ENV: f"http://127.0.0.1:{self.nats.monitor_port}",
            "LLEM_PREFIX": self.layout.prefix,
            "LLEM_DATABASE_URL": self.database_url,
            "LLEM_POOLS": f'["{POOL}"]',
            "LLEM_HEARTBEAT_INTERVAL_S": "1",
            "LLEM_JOB_ACK_WAIT_S": str(self.layout.job_ack_wait_s),
            "LLEM_JOB_MAX_DELIVER": str(self.layout.job_max_deliver),
            "LLEM_RUNNER_TTL_S": str(self.layout.runner_ttl_s),
            "LLEM_NO_RUNNER_TIMEOUT_S": "600",
            "LLEM_SWEEP_INTERVAL_S": "1",
            "LLEM_RECONNECT_WAIT_S": "1",
            **extra,
        }

    def _proc(self, label: str, binary: str, args: list[str], **extra: str) -> Proc:
        env = with_credentials(binary, args, self._env(**extra))
        proc = Proc(label, binary, args, env, self.log_dir)
        self.procs[label] = proc
        return proc

    def start(self) -> ChaosStack:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.auth = AuthDir(self.root / "nats")
        self.auth.init(self.layout.prefix)
        self.nats = NatsServer(self.auth.path, auth=True).start()
        in_thread(self._bootstrap())  # with the pool's consumer: runners may not create one
        self.postgres = PostgresServer(self.root / "pg").start()  # durable: fsync and synchronous commit on
        with psycopg.connect(self.postgres.dsn(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE llem")
        migrate(self.database_url)
        self.nats_proxy = ProxyThread(self.nats.port)
        self.pg_proxy = ProxyThread(self.postgres.port)
        proxied_pg = self.database_url.replace(f":{self.postgres.port}/", f":{self.pg_proxy.port}/")
        assert proxied_pg != self.database_url
        self._proc("scheduler", "llem-scheduler", ["run"]).start()
        self._proc("ingest-1", "llem-ingest", ["run"], LLEM_DATABASE_URL=proxied_pg)
        self._proc("ingest-2", "llem-ingest", ["run"])
        self._proc("api", "llem-api", ["run"], LLEM_API_PORT=str(self.api_port))
        for name in ("ingest-1", "ingest-2", "api"):
            self.procs[name].start()
        runner_env = {"LLEM_STATE_DIR": str(self.root / "state")}
        self._proc(
            "runner-1", "llem-runner", ["run", "--runner-id", "r1"], **runner_env,
            LLEM_NATS_URL=f"nats://127.0.0.1:{self.nats_proxy.port}",
        )  # fmt: skip
        self._proc("runner-2", "llem-runner", ["run", "--runner-id", "r2"], **runner_env)
        for name in ("runner-1", "runner-2"):
            self.procs[name].start()
        wait_until(self.api_ready, 120, "the API ready")
        return self

    async def _bootstrap(self) -> None:
        nc = await nats.connect(self.nats.url, nkeys_seed=str(self.auth.seed_path("admin")))
        try:
            await bootstrap(nc.jetstream(), self.layout, [POOL])
        finally:
            await nc.close()

    def api_ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.api_url}/readyz", timeout=5) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def logs(self) -> list[Path]:
        return [*sorted((self.log_dir).glob("*.log")), self.nats.log_path, self.postgres.log_path]

    def check_alive(self) -> None:
        dead = [p.label for p in self.procs.values() if not p.alive]
        assert not dead, f"processes died: {dead}; logs in {self.root / 'logs'}"

    def stop(self) -> None:
        """Whatever was started, stopped (also after a start that failed half-way)."""
        for proc in self.procs.values():
            proc.stop()
        for name in ("nats_proxy", "pg_proxy"):
            if (proxy := getattr(self, name, None)) is not None:
                proxy.close()
        if (nats := getattr(self, "nats", None)) is not None:
            nats.stop()
        if (postgres := getattr(self, "postgres", None)) is not None:
            postgres.destroy()


def in_thread(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a new event loop in a thread of its own (callable from
    sync code whether or not an event loop runs in this thread)."""
    result: list[T] = []

    def run() -> None:
        result.append(asyncio.run(coro))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert result, "the coroutine failed (see the traceback above)"
    return result[0]


def wait_until(check: Callable[[], object], timeout_s: float, what: str, period_s: float = 0.2) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out after {timeout_s} s waiting for {what}"
        time.sleep(period_s)


@contextmanager
def chaos_stack(root: Path, layout: Layout, tiny_model: Path, log_dir: Path) -> Iterator[ChaosStack]:
    stack = ChaosStack(root, layout, tiny_model, log_dir)
    try:
        yield stack.start()
    finally:
        stack.stop()
