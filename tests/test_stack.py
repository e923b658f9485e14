"""`llem demo` and `llem stack up/down`, the commands behind `make demo`, run for real in a temp data dir."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from llem.devstack import PostgresServer
from llem.devstack.ports import port_open

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
    status = _llem("campaign", "status", cid, "--nats", nats_url)
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
