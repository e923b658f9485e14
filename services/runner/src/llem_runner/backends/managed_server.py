"""A server the runner starts, waits for and stops: one subprocess in its own process group.

Generic: it knows a command, a health URL and a timeout, nothing of what the server is.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import httpx

from llem_runner.errors import BackendError, ServerStartError

#: How many lines of the server's log an error quotes.
LOG_TAIL_LINES = 40


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on `host` right now (another process may still take it before the server does)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def read_log_tail(path: Path, lines: int = LOG_TAIL_LINES, max_bytes: int = 64 * 1024) -> str:
    """The last `lines` lines of a log file (at most its last `max_bytes`), or "" if it cannot be read."""
    try:
        with path.open("rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - max_bytes))
            data = f.read()
    except OSError:
        return ""
    return "\n".join(data.decode(errors="replace").splitlines()[-lines:])


class ManagedServer:
    """Runs `command` as a subprocess in a new session (its own process group), with stdout and
    stderr going to a log file, and waits until `health_url` answers HTTP 200.

    `start()` raises `ServerStartError` (a `BackendError`) carrying the exit code and the log's last
    lines when the process exits before it is healthy or `startup_timeout_s` passes; the process
    group is stopped first. `stop()` sends SIGTERM to the whole group (so workers the server spawned
    go too), then SIGKILL after `stop_grace_s`; it is safe to call twice.

    Without `log_path` the log goes to a temporary file, removed by `stop()`.
    """

    def __init__(
        self,
        command: Sequence[str],
        health_url: str,
        *,
        startup_timeout_s: float,
        log_path: Path | None = None,
        env: Mapping[str, str] | None = None,
        stop_grace_s: float = 10.0,
        poll_interval_s: float = 0.2,
        name: str | None = None,
    ) -> None:
        if not command:
            raise ValueError("empty server command")
        self.command = list(command)
        self.health_url = health_url
        self.startup_timeout_s = startup_timeout_s
        self.env = dict(env) if env is not None else None
        self.stop_grace_s = stop_grace_s
        self.poll_interval_s = poll_interval_s
        self.name = name or Path(self.command[0]).name
        self._own_log = log_path is None
        self.log_path = log_path
        self._log: IO[bytes] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        #: pid of the last process started (kept after stop, for diagnostics).
        self.pid: int | None = None
        #: exit code of the last process, once it has been reaped (negative: killed by that signal).
        self.returncode: int | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            if self._proc is not None:
                raise BackendError(f"{self.name} is already started (pid {self.pid})")
            self._spawn()
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
            if proc is not None:
                self._terminate_group(proc)
                self.returncode = proc.returncode
            log, self._log = self._log, None
            if log is not None:
                log.close()
            if self._own_log and self.log_path is not None:
                self.log_path.unlink(missing_ok=True)
                self.log_path = None

    @property
    def running(self) -> bool:
        proc = self._proc
        return proc is not None and proc.poll() is None

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return read_log_tail(self.log_path, lines) if self.log_path is not None else ""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- internals ---------------------------------------------------------------------------------

    def _spawn(self) -> None:
        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix=f"llem-{self.name}-", suffix=".log")
            os.close(fd)
            self.log_path = Path(name)
        else:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        try:
            self._proc = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,  # setsid: the child leads a new process group
            )
        except OSError as exc:
            self._log.close()
            self._log = None
            raise ServerStartError(
                f"could not start {self.name} ({self.command[0]}): {exc}", exit_code=None, log_tail=""
            ) from exc
        self.pid = self._proc.pid
        self.returncode = None

    def _wait_healthy(self) -> None:
        proc = self._proc
        assert proc is not None
        deadline = time.monotonic() + self.startup_timeout_s
        # trust_env=False: the server is local, a proxy from the environment must not answer for it.
        with httpx.Client(trust_env=False) as client:
            while True:
                code = proc.poll()
                if code is not None:
                    raise self._failure(
                        f"{self.name} exited with exit code {code} before it was healthy", code
                    )
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    response = client.get(self.health_url, timeout=max(0.1, min(5.0, remaining)))
                    if response.status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(min(self.poll_interval_s, max(0.0, deadline - time.monotonic())))
        code = proc.poll()
        if code is not None:
            raise self._failure(f"{self.name} exited with exit code {code} before it was healthy", code)
        raise self._failure(
            f"{self.name} did not answer {self.health_url} with 200 within {self.startup_timeout_s:g} s",
            None,
        )

    def _failure(self, what: str, exit_code: int | None) -> ServerStartError:
        tail = self.log_tail()
        where = f" ({self.log_path})" if self.log_path is not None and not self._own_log else ""
        body = tail if tail else "(empty)"
        return ServerStartError(
            f"{what}; last lines of its log{where}:\n{body}", exit_code=exit_code, log_tail=tail
        )

    def _terminate_group(self, proc: subprocess.Popen[bytes]) -> None:
        pgid = proc.pid  # start_new_session: the child's pid is its process group id
        self._signal_group(pgid, signal.SIGTERM)
        try:
            proc.wait(timeout=self.stop_grace_s)
        except subprocess.TimeoutExpired:
            self._signal_group(pgid, signal.SIGKILL)
            proc.wait()
            return
        # The leader is gone; kill whatever it left behind in its group (engine workers, for instance).
        self._signal_group(pgid, signal.SIGKILL)

    @staticmethod
    def _signal_group(pgid: int, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)
