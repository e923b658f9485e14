"""One NATS connection for every process: the settings, the one-line failure, and the whole demo flow
(CLI submit, scheduler, runner, ingest, the API's live stream) against a nats-server that requires a
user and password, and one that requires TLS with a CA this test makes."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from llem.devstack import NatsServer
from llem.devstack.ports import free_port, port_open
from llem_control.connection import NatsSettings, connect
from llem_control.errors import NatsUnreachable
from llem_control.expand import expand
from llem_control.spec import load_spec
from llem_schemas.subjects import Layout

from .certs import make_ca
from .processes import BIN, service
from .sse import sse_events
from .waiting import wait_for

PASSWORD = "pw-" + uuid.uuid4().hex[:8]


def test_settings_take_one_method_and_a_list_of_urls() -> None:
    settings = NatsSettings(nats_url="nats://a:1, nats://b:2", nats_user="u", nats_password="s3cr3t")
    assert settings.servers() == ["nats://a:1", "nats://b:2"]
    assert settings.connect_options("x") == {
        "servers": ["nats://a:1", "nats://b:2"],
        "name": "x",
        "user": "u",
        "password": "s3cr3t",
    }
    assert "s3cr3t" not in repr(settings)  # secrets never print
    cases: tuple[tuple[dict[str, Any], str], ...] = (
        ({"nats_token": "t", "nats_user": "u", "nats_password": "p"}, "one authentication method"),
        ({"nats_user": "u"}, "needs a password"),
        ({"nats_tls_cert": "c.pem"}, "needs its key"),
        ({"nats_url": " , "}, "no server URL"),
    )
    for bad, why in cases:
        with pytest.raises(ValueError, match=why):
            NatsSettings(**bad)


def test_environment_variables_are_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLEM_NATS_URL", "tls://coordinator:4222")
    monkeypatch.setenv("LLEM_NATS_TOKEN", "t0k")
    monkeypatch.setenv("LLEM_NATS_INBOX_PREFIX", "_INBOX_r1")
    options = NatsSettings().connect_options("x")
    assert options["token"] == "t0k" and options["inbox_prefix"] == "_INBOX_r1"
    assert options["tls"] is not None  # tls:// alone asks for TLS with the system's CAs


async def test_an_unreachable_server_is_one_line() -> None:
    port = free_port()
    with pytest.raises(NatsUnreachable) as info:
        await connect(NatsSettings(nats_url=f"nats://127.0.0.1:{port}"), name="t")
    message = str(info.value)
    assert f"cannot reach NATS at nats://127.0.0.1:{port}" in message and "\n" not in message
    assert "is nats-server running" in message


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "llem"), *args], capture_output=True, text=True, timeout=120, env=env or dict(os.environ)
    )


def test_the_cli_says_in_one_line_when_nats_is_unreachable_or_a_file_is_not_yaml(tmp_path: Path) -> None:
    demo = Path(__file__).resolve().parents[1] / "examples" / "demo.yaml"
    result = _cli("campaign", "submit", str(demo), "--nats", f"nats://127.0.0.1:{free_port()}")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("cannot reach NATS at nats://127.0.0.1:") and "check:" in line
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\npools: [a, b\nmodels: 3\n")
    result = _cli("campaign", "submit", str(broken), "--dry-run")
    assert result.returncode == 2
    assert result.stderr.strip().startswith(f"{broken}:3:7: not valid YAML:"), result.stderr


# -- the demo flow on an authenticated bus ------------------------------------------------------


@pytest.fixture(params=["password", "tls"])
def secured(request: pytest.FixtureRequest) -> Iterator[tuple[NatsServer, dict[str, str]]]:
    """A nats-server that requires a user and password, or TLS; and the variables that reach it."""
    path = Path(tempfile.mkdtemp(prefix="llem-secured-"))
    if request.param == "password":
        server = NatsServer(path / "nats", users={"llem": PASSWORD}).start()
        env = {"LLEM_NATS_USER": "llem", "LLEM_NATS_PASSWORD": PASSWORD}
    else:
        ca = make_ca(path / "certs")
        server = NatsServer(path / "nats", tls=ca.server).start()
        env = {"LLEM_NATS_TLS_CA": str(ca.ca)}
    yield server, {"LLEM_NATS_URL": server.url, **env}
    server.stop()
    shutil.rmtree(path, ignore_errors=True)


async def _completed_over_sse(url: str, job_count: int, started: asyncio.Event) -> set[str]:
    """Job ids that the API's live campaign stream reported completed, once all of them were."""
    done: set[str] = set()
    client = httpx.AsyncClient(timeout=httpx.Timeout(10, read=240))
    async with client, client.stream("GET", url) as resp:
        assert resp.status_code == 200, await resp.aread()
        started.set()
        async for event in sse_events(resp):
            data = json.loads(event["data"])
            if event.get("event") == "job.status" and data["status"] == "completed":
                done.add(data["job_id"])
            if len(done) == job_count:
                return done
    raise AssertionError(f"the stream ended with {len(done)} of {job_count} jobs completed")


def _flags(env: dict[str, str]) -> list[str]:
    """The same connection as flags (the runner and the CLI get flags, the services variables)."""
    names = {
        "LLEM_NATS_URL": "--nats",
        "LLEM_NATS_USER": "--user",
        "LLEM_NATS_PASSWORD": "--password",
        "LLEM_NATS_TLS_CA": "--tls-ca",
    }
    return [arg for key, value in env.items() for arg in (names[key], value)]


@pytest.mark.e2e
async def test_the_demo_flow_runs_on_a_bus_that_requires_authentication(
    secured: tuple[NatsServer, dict[str, str]],
    service_env: dict[str, str],
    layout: Layout,
    tiny_model: Path,
    tmp_path: Path,
) -> None:
    server, auth = secured
    plain = {k: v for k, v in service_env.items() if not k.startswith("LLEM_NATS_")}
    refused = await asyncio.to_thread(
        _cli, "runners", "--nats", server.url, "--prefix", layout.prefix, env=plain
    )
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    assert refused.stderr.startswith(f"cannot reach NATS at {server.url}")

    env = {**plain, **auth}
    spec_doc: dict[str, Any] = {
        "name": f"secured-{uuid.uuid4().hex[:6]}",
        "pools": [{"name": "cpu", "gpu": False}],
        "models": [{"name": "tiny", "gguf": str(tiny_model), "context_limit": 256}],
        "backends": [{"kind": "llama_cpp", "n_ctx": 256, "n_threads": 1}],
        "workload": {"num_requests": 2, "max_output_tokens": 8},
        "protocol": {"meter": "none", "warmup_requests": 0},
        "repetitions": 2,
    }
    spec_file = tmp_path / "campaign.yaml"
    spec_file.write_text(yaml.safe_dump(spec_doc))
    expansion = expand(load_spec(spec_file))
    port = free_port()
    boot = await asyncio.to_thread(
        subprocess.run,
        [str(BIN / "llem-scheduler"), "bootstrap", "--pool", "cpu"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert boot.returncode == 0, boot.stderr
    runner_args = ["run", *_flags(auth), "--pool", "cpu", "--runner-id", "secured", "--prefix", layout.prefix]
    with (
        service("llem-scheduler", ["run"], env, tmp_path),
        service("llem-ingest", ["run"], env, tmp_path),
        service("llem-api", ["run"], {**env, "LLEM_API_PORT": str(port)}, tmp_path),
        service("llem-runner", runner_args, plain, tmp_path),
    ):
        await wait_for(lambda: port_open(port), 60, "llem-api listening")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as api:
            await wait_for(lambda: _ready(api), 60, "the API ready")
            started = asyncio.Event()
            url = f"http://127.0.0.1:{port}/api/live/campaigns/{expansion.campaign_id}"
            watcher = asyncio.create_task(_completed_over_sse(url, len(expansion.jobs), started))
            await asyncio.wait_for(started.wait(), 30)
            submit = await asyncio.to_thread(
                _cli,
                "campaign",
                "submit",
                str(spec_file),
                *_flags(auth),
                "--prefix",
                layout.prefix,
                env=plain,
            )
            assert submit.returncode == 0, submit.stderr
            done = await asyncio.wait_for(watcher, 240)
            assert done == {str(job.job_id) for job in expansion.jobs}

            async def stored() -> bool:
                resp = await api.get("/api/runs", params={"campaign_id": str(expansion.campaign_id)})
                runs = [r for r in resp.json()["items"] if r["status"] == "completed"]
                return len(runs) == len(expansion.jobs)

            await wait_for(stored, 60, "ingest to store every completed run")


async def _ready(api: httpx.AsyncClient) -> bool:
    resp = await api.get("/readyz")
    return resp.status_code == 200
