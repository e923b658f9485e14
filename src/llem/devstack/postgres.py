"""A private PostgreSQL instance with TimescaleDB preloaded, independent of any system cluster.

PostgreSQL refuses to run as root; when we are root the server runs as the `postgres`
system user (created by Debian's postgresql package) and owns only its data directory.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from llem.devstack.errors import DevStackError
from llem.devstack.ports import free_port, port_open, wait_until

log = logging.getLogger(__name__)
INSTALL_HINT = "run scripts/install-timescaledb.sh (make test and make demo run it for you)"


def pg_bin_dir() -> Path:
    """Newest PostgreSQL on the machine that has timescaledb.so installed."""
    override = os.environ.get("LLEM_PG_BIN")
    candidates = (
        [Path(override)]
        if override
        else sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True)
    )
    for bin_dir in candidates:
        if (bin_dir / "postgres").is_file() and (bin_dir.parent / "lib" / "timescaledb.so").is_file():
            return bin_dir
    raise DevStackError(f"no PostgreSQL with TimescaleDB found under /usr/lib/postgresql; {INSTALL_HINT}")


def _run_as(user: str | None) -> list[str]:
    if user is None:
        return []
    runuser = shutil.which("runuser")
    if not runuser:
        raise DevStackError("running as root needs runuser to start PostgreSQL as the postgres user")
    return [runuser, "-u", user, "--"]


@dataclass
class PostgresServer:
    """One PostgreSQL server; `fast=True` turns off fsync (tests only: not crash-safe)."""

    data_dir: Path
    port: int = 0
    fast: bool = False
    superuser: str = "llem"

    def __post_init__(self) -> None:
        self.bin_dir = pg_bin_dir()
        self.os_user: str | None = "postgres" if os.geteuid() == 0 else None
        self.base = self._server_dir()

    def _server_dir(self) -> Path:
        """Where the server's files go: `data_dir`, unless the server's user cannot reach it.

        As root the server runs as `postgres`, which cannot enter a 0700 directory such as a fresh
        `mktemp -d` checkout; then the files go to a directory of their own under the system temp
        dir, named after `data_dir` so that stop and restart find them again.
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.os_user is None:
            return self.data_dir
        self.data_dir.chmod(0o755)
        reachable = subprocess.run([*_run_as(self.os_user), "test", "-x", str(self.data_dir)], check=False)
        if reachable.returncode == 0:
            return self.data_dir
        digest = hashlib.sha256(str(self.data_dir.resolve()).encode()).hexdigest()[:16]
        base = Path(tempfile.gettempdir()) / f"llem-postgres-{digest}"
        base.mkdir(mode=0o755, exist_ok=True)
        log.warning(
            "%s is not reachable by the %s user; PostgreSQL files go to %s", self.data_dir, self.os_user, base
        )
        return base

    @property
    def pgdata(self) -> Path:
        return self.base / "pgdata"

    @property
    def log_path(self) -> Path:
        return self.base / "postgres.log"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.superuser}@127.0.0.1:{self.port}/{dbname}"

    def _cmd(self, tool: str, *args: str) -> list[str]:
        return [*_run_as(self.os_user), str(self.bin_dir / tool), *args]

    def _prepare_dirs(self) -> None:
        self.log_path.touch()
        if self.os_user:
            pw = pwd.getpwnam(self.os_user)
            os.chown(self.log_path, pw.pw_uid, pw.pw_gid)
            if not self.pgdata.exists():
                self.pgdata.mkdir(mode=0o700)
                os.chown(self.pgdata, pw.pw_uid, pw.pw_gid)

    def _initdb(self) -> None:
        if (self.pgdata / "PG_VERSION").is_file():
            return
        args = ["-D", str(self.pgdata), "-U", self.superuser, "-A", "trust", "-E", "UTF8", "--no-sync"]
        result = subprocess.run(
            self._cmd("initdb", *args), capture_output=True, text=True, check=False, cwd=self.base
        )
        if result.returncode != 0:
            raise DevStackError(f"initdb failed: {result.stderr.strip() or result.stdout.strip()}")

    def start(self, timeout_s: float = 60) -> PostgresServer:
        self._prepare_dirs()
        self._initdb()
        self.port = self.port or free_port()
        opts = [
            f"-p {self.port}",
            "-c listen_addresses=127.0.0.1",
            f"-k {self.pgdata}",
            "-c shared_preload_libraries=timescaledb",
            "-c timescaledb.telemetry_level=off",
            "-c max_connections=200",
        ]
        if self.fast:
            opts += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        cmd = self._cmd(
            "pg_ctl",
            "-D",
            str(self.pgdata),
            "-l",
            str(self.log_path),
            "-o",
            " ".join(opts),
            "-w",
            "-t",
            str(int(timeout_s)),
            "start",
        )
        result = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=self.base)
        if result.returncode != 0:
            raise DevStackError(f"PostgreSQL did not start: {result.stderr.strip()}; log: {self.log_path}")
        wait_until(lambda: port_open(self.port), timeout_s, "PostgreSQL")
        return self

    def running(self) -> bool:
        cmd = self._cmd("pg_ctl", "-D", str(self.pgdata), "status")
        return subprocess.run(cmd, capture_output=True, check=False).returncode == 0

    def stop(self, mode: str = "fast") -> None:
        if not (self.pgdata / "postmaster.pid").exists():
            return
        cmd = self._cmd("pg_ctl", "-D", str(self.pgdata), "-m", mode, "-w", "stop")
        subprocess.run(cmd, capture_output=True, check=False, cwd=self.base)

    def destroy(self) -> None:
        """Stop the server and delete its files, wherever they went (for throwaway servers: tests,
        benchmarks). A server placed outside `data_dir` would otherwise stay behind in the temp dir."""
        self.stop("immediate")
        shutil.rmtree(self.pgdata, ignore_errors=True)
        self.log_path.unlink(missing_ok=True)
        if self.base != self.data_dir:
            shutil.rmtree(self.base, ignore_errors=True)
