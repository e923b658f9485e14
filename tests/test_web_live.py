"""The live pages in a real browser against the whole running system: NATS, PostgreSQL +
TimescaleDB, llem-ingest, llem-scheduler, a llem-runner on the tiny llama.cpp model and llem-api
serving the built app. The browser tests are web/e2e/live.spec.ts (web/playwright.live.config.ts).

They build a campaign in the builder, watch it run, cancel another, watch the page survive an API
restart, and watch the runner go offline. What only a process owner can do (kill and restart the
API, stop the runner) they ask of this test through a small control endpoint on localhost."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import pytest
from nats.js import JetStreamContext

from llem.devstack.ports import free_port, port_open
from llem_api.tokens import create_token
from llem_schemas.subjects import Layout
from tests.natsauth import with_credentials
from tests.processes import BIN, terminate
from tests.waiting import wait_for

WEB = Path(__file__).resolve().parents[1] / "web"
DIST = WEB / "dist"
RUNNER_ID = "live-runner"


class Processes:
    """The services of the test, each restartable by name (logs appended across restarts)."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env, self.log_dir = env, log_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.commands: dict[str, tuple[str, list[str], dict[str, str]]] = {}

    def start(self, key: str, name: str, args: list[str], extra: dict[str, str] | None = None) -> None:
        self.commands[key] = (name, args, extra or {})
        with (self.log_dir / f"{key}.log").open("ab") as log:
            self.procs[key] = subprocess.Popen(
                [str(BIN / name), *args],
                env=with_credentials(name, args, {**self.env, **(extra or {})}),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self, key: str, kill: bool = False) -> None:
        proc = self.procs[key]
        if kill and proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait()
        terminate(proc)

    def restart(self, key: str) -> None:
        self.stop(key, kill=True)
        name, args, extra = self.commands[key]
        self.start(key, name, args, extra)

    def close(self) -> None:
        for key in list(self.procs):
            self.stop(key)
            log = (self.log_dir / f"{key}.log").read_text(errors="replace")
            sys.stderr.write(f"--- {key} log ---\n{log[-3000:]}\n")


@contextmanager
def _control(procs: Processes, api_port: int) -> Iterator[str]:
    """POST /restart-api (SIGKILL, then the same command on the same port), /stop-runner (SIGTERM),
    /start-runner (the same runner again)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path == "/restart-api":
                procs.restart("api")
                deadline_ok = _wait_port(api_port, 60)
                self._answer(200 if deadline_ok else 500, {"restarted": deadline_ok})
            elif self.path == "/stop-runner":
                procs.stop("runner")
                self._answer(200, {"stopped": True})
            elif self.path == "/start-runner":
                procs.restart("runner")
                self._answer(200, {"started": True})
            else:
                self._answer(404, {"detail": f"no control {self.path}"})

        def _answer(self, status: int, body: dict[str, object]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _wait_port(port: int, timeout_s: float) -> bool:
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if port_open(port):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.layout(runner_ttl_s=6)
@pytest.mark.timeout(900)
async def test_the_live_pages_follow_a_running_campaign_in_the_browser(
    js: JetStreamContext,
    layout: Layout,
    service_env: dict[str, str],
    database_url: str,
    tiny_model: Path,
    tmp_path: Path,
) -> None:
    assert (DIST / "index.html").is_file(), "web/dist is missing: make test builds it (make web)"
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        token = await create_token(conn, "browser", ["campaigns:write"])
    api_port = free_port()
    env = {
        **service_env,
        "LLEM_API_PORT": str(api_port),
        "LLEM_WEB_DIR": str(DIST),
        "LLEM_MODEL_DIR": str(tiny_model.parent),
        "LLEM_SWEEP_INTERVAL_S": "0.5",
    }
    procs = Processes(env, tmp_path)
    with ExitStack() as stack:
        stack.callback(procs.close)
        procs.start("ingest", "llem-ingest", ["run"])
        procs.start("scheduler", "llem-scheduler", ["run"])
        procs.start("runner", "llem-runner", ["run", "--runner-id", RUNNER_ID])
        procs.start("api", "llem-api", ["run"])
        await wait_for(lambda: port_open(api_port), 60, "llem-api listening")
        control = stack.enter_context(_control(procs, api_port))
        browser = await asyncio.to_thread(
            _playwright,
            {
                "LLEM_API_URL": f"http://127.0.0.1:{api_port}",
                "LLEM_CONTROL_URL": control,
                "LLEM_TOKEN": token,
                "LLEM_RUNNER_ID": RUNNER_ID,
                "LLEM_RUNNER_TTL_S": str(layout.runner_ttl_s),
            },
        )
    sys.stdout.write(browser.stdout[-20000:])
    assert browser.returncode == 0, (
        f"live browser tests failed:\n{browser.stdout[-8000:]}\n{browser.stderr[-4000:]}"
    )


def _playwright(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    shutil.rmtree(WEB / "test-results" / "live", ignore_errors=True)
    return subprocess.run(
        [str(WEB / "node_modules" / ".bin" / "playwright"), "test", "--config", "playwright.live.config.ts"],
        cwd=WEB,
        env={**os.environ, **env, "CI": "1"},
        capture_output=True,
        text=True,
        timeout=800,
        check=False,
    )
