"""The web app in a real browser (Debian's Chromium, driven by Playwright) against the real stack:
NATS, PostgreSQL + TimescaleDB, data seeded through `llem-ingest`, `llem-api` serving the built app,
and the static site `llem export --format site` writes, served by a plain static file server.

The browser tests themselves are web/e2e/*.spec.ts; this test starts what they need, hands them the
URLs and the seeded facts, and fails with their report if any fails."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from nats.js import JetStreamContext

from llem.devstack.ports import free_port, port_open
from llem_schemas.subjects import Layout
from tests import web_seed
from tests.processes import BIN, service, terminate
from tests.seeding import ingest
from tests.waiting import wait_for

WEB = Path(__file__).resolve().parents[1] / "web"
DIST = WEB / "dist"


@pytest.mark.timeout(1200)
async def test_the_browser_suite_passes_against_the_real_stack(
    js: JetStreamContext, layout: Layout, service_env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    assert (DIST / "index.html").is_file(), "web/dist is missing: make test builds it (make web)"
    assert (WEB / "node_modules" / ".bin" / "playwright").is_file(), (
        "npm ci has not run: scripts/install-web.sh"
    )
    await ingest(js, layout, service_env, tmp_path, web_seed.seed())
    site = await asyncio.to_thread(_export_site, database_url, tmp_path / "site")
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(web_seed.facts()))
    api_port = free_port()
    env = {**service_env, "LLEM_API_PORT": str(api_port), "LLEM_WEB_DIR": str(DIST)}
    with service("llem-api", ["run"], env, tmp_path), _static_server(site) as site_url:
        await wait_for(lambda: port_open(api_port), 30, "llem-api listening")
        browser = await asyncio.to_thread(_playwright, f"http://127.0.0.1:{api_port}", site_url, facts)
    sys.stdout.write(browser.stdout[-20000:])
    assert browser.returncode == 0, (
        f"browser tests failed:\n{browser.stdout[-8000:]}\n{browser.stderr[-4000:]}"
    )
    assert (WEB / "test-results" / "screenshots" / "leaderboard.png").is_file()


def _export_site(database_url: str, site: Path) -> Path:
    """`llem export --format site`, as an operator runs it."""
    command = [
        "export",
        "--format",
        "site",
        "--out",
        str(site),
        "--database",
        database_url,
        "--web-dir",
        str(DIST),
    ]
    export = subprocess.run(
        [str(BIN / "llem"), *command],
        capture_output=True,
        text=True,
        check=False,
    )
    assert export.returncode == 0, export.stderr
    assert (site / "data" / "configurations.json").is_file()
    assert 'content="static"' in (site / "index.html").read_text()
    return site


@contextmanager
def _static_server(root: Path) -> Iterator[str]:
    """A plain static file server (Python's), as any static host would serve the folder."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(root), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not port_open(port):
            assert proc.poll() is None and time.monotonic() < deadline, "the static file server did not start"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/"
    finally:
        terminate(proc)


def _playwright(api_url: str, site_url: str, facts: Path) -> subprocess.CompletedProcess[str]:
    shutil.rmtree(WEB / "test-results", ignore_errors=True)
    return subprocess.run(
        [str(WEB / "node_modules" / ".bin" / "playwright"), "test"],
        cwd=WEB,
        env={
            **os.environ,
            "LLEM_API_URL": api_url,
            "LLEM_SITE_URL": site_url,
            "LLEM_FACTS": str(facts),
            "CI": "1",
        },
        capture_output=True,
        text=True,
        timeout=1100,
        check=False,
    )
