"""`llem demo` and `llem stack up/down`, the commands behind `make demo`, run for real in a temp data dir."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client as NatsClient

from llem.devstack import PostgresServer
from llem.devstack.ports import port_open, wait_until

pytestmark = pytest.mark.e2e
LLEM = str(Path(sys.executable).parent / "llem")


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Inside a 0700 directory, like a checkout in `mktemp -d`: when we are root, PostgreSQL (run as
    # the postgres user) cannot reach it and the stack must place the server's files elsewhere.
    parent = Path(tempfile.mkdtemp(prefix="llem-stack-"))
    path = parent / "data"
    yield path
    subprocess.run([LLEM, "stack", "down", "--data-dir", str(path)], check=False, capture_output=True)
    shutil.rmtree(PostgresServer(path / "postgres").base, ignore_errors=True)
    shutil.rmtree(parent, ignore_errors=True)


def _llem(*args: str, timeout_s: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LLEM, *args], capture_output=True, text=True, timeout=timeout_s, check=False)


def test_demo_runs_the_demo_campaign_and_the_stack_is_idempotent(data_dir: Path) -> None:
    demo = _llem("demo", "--data-dir", str(data_dir))
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "All 4 job(s) completed" in demo.stdout
    assert "/api/runs" in demo.stdout

    state = json.loads((data_dir / "stack.json").read_text())
    cid = demo.stdout.split("submitted campaign ")[1].split(":")[0]
    nats_url = f"nats://127.0.0.1:{state['nats_port']}"
    refused = _llem("campaign", "status", cid, "--nats", nats_url)
    assert refused.returncode == 2 and "cannot reach NATS" in refused.stderr, "no open bus"
    assert "authentication error" in (data_dir / "nats" / "nats-server.log").read_text()
    admin = str(data_dir / "nats" / "creds" / "admin.nk")
    status = _llem("campaign", "status", cid, "--nats", nats_url, "--nkey-seed", admin)
    assert status.returncode == 0, status.stderr
    assert "completed=4" in status.stdout, "the scheduler of the stack tracked every job to its end"
    api = f"http://127.0.0.1:{state['api_port']}"
    assert f"Web app   {api}/" in demo.stdout, "make test builds web/dist before the tests"
    with urllib.request.urlopen(f"{api}/") as page:
        assert b'<div id="root">' in page.read(), "the stack's API serves the web app"
    with urllib.request.urlopen(f"{api}/api/configurations") as resp:
        board = json.load(resp)
    # without GPU or RAPL (as here) the runs have no energy: the leaderboard's data says why it is empty
    assert board["configurations"] or board["unmeasured"] == {"runs": 4, "meters": ["none"]}
    again = _llem("stack", "up", "--data-dir", str(data_dir))
    assert again.returncode == 0, again.stderr
    assert json.loads((data_dir / "stack.json").read_text()) == state, (
        "a second `up` reuses the running stack"
    )

    down = _llem("stack", "down", "--data-dir", str(data_dir))
    assert down.returncode == 0 and "stopped" in down.stdout
    assert not (data_dir / "stack.json").exists()
    for port in (state["nats_port"], state["pg_port"], state["api_port"]):
        assert not port_open(port), f"port {port} still open after `llem stack down`"


def _connects(url: str, seed: Path) -> bool:
    async def attempt() -> bool:
        nc = NatsClient()
        try:
            await nc.connect(url, nkeys_seed=str(seed), allow_reconnect=False, connect_timeout=2)
        except (nats.errors.Error, OSError):  # refused: the server logs why (asserted by the caller)
            return False
        finally:
            await nc.close()  # a refused client's socket too, before this loop closes
        return True

    return asyncio.run(attempt())


def test_a_runner_joins_and_is_revoked_with_the_cli_while_the_stack_runs(data_dir: Path) -> None:
    up = _llem("stack", "up", "--data-dir", str(data_dir))
    assert up.returncode == 0, up.stderr
    state = json.loads((data_dir / "stack.json").read_text())
    url, creds = f"nats://127.0.0.1:{state['nats_port']}", data_dir / "nats"
    added = _llem("runner", "add", "box-2", "--pool", "gpu", "--dir", str(creds), "--nats", url)
    assert added.returncode == 0, added.stdout + added.stderr
    assert (
        "nats-server reloaded its users" in added.stdout
        and "docker compose --profile runner-gpu up -d" in added.stdout
    )
    lines = (creds / "runners" / "box-2.env").read_text().splitlines()
    env = dict(line.split("=", 1) for line in lines if not line.startswith("#"))
    assert env["LLEM_RUNNER_ID"] == "box-2" and json.loads(env["LLEM_POOLS"]) == ["gpu"]
    seed = creds / "creds" / "runner-box-2.nk"
    assert oct(seed.stat().st_mode & 0o777) == "0o600"
    kept = data_dir / "box-2.nk"
    shutil.copy(seed, kept)
    # the reload is a signal: the server applies it a moment later
    wait_until(lambda: _connects(url, kept), 10, "the new runner let in without a restart")
    listed = _llem("runner", "list", "--dir", str(creds))
    assert "box-2  pools=gpu" in listed.stdout and "local-runner  pools=default" in listed.stdout
    revoked = _llem("runner", "revoke", "box-2", "--dir", str(creds))
    assert revoked.returncode == 0, revoked.stderr
    log = data_dir / "nats" / "nats-server.log"
    violations = log.read_text().count("authentication error")
    wait_until(lambda: not _connects(url, kept), 10, "the revoked seed refused")
    assert log.read_text().count("authentication error") > violations, "refused by the server's auth"
    again = _llem("runner", "revoke", "box-2", "--dir", str(creds))
    assert again.returncode == 1 and again.stderr.strip() == f"no runner 'box-2' in {creds}"
    assert json.loads((data_dir / "stack.json").read_text())["nats_pid"] == state["nats_pid"], "no restart"
