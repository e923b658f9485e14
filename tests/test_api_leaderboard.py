"""The leaderboard through Litestar's test client, on a database seeded through the real ingest path:
constraint filtering, best per model, ties, repetitions' interval, quality flags, Pareto points,
superseded attempts excluded, and the static export agreeing with the API."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import psycopg
from hypothesis import given, settings
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient
from nats.js import JetStreamContext

from llem_api.app import create_app
from llem_api.export import export_leaderboard
from llem_api.leaderboard import ParetoPoint, _mark_pareto
from llem_api.settings import ApiSettings
from llem_schemas import JobSpec
from llem_schemas.base import Event
from llem_schemas.jobs import MeasurementProtocol
from llem_schemas.measurement import QualityFlagCode
from llem_schemas.subjects import Layout
from tests import events
from tests.natsauth import SeedOf
from tests.seeding import ingest

CID = uuid.uuid4()


def _job(model: str, config: str) -> JobSpec:
    return events.leaderboard_job(CID, model, config)


_run = events.measured_run


def _seed() -> list[Event]:
    a1, a1b, a2, a3 = _job("A", "a1"), _job("A", "a1"), _job("A", "a2"), _job("A", "a3")
    b1, b2, ghost = _job("B", "b1"), _job("B", "b2"), _job("B", "ghost")
    unmetered = _job("C", "c1")
    return [
        *_run(a1, 0.48, 40, 100),
        *_run(a1b, 0.52, 40, 100),  # second repetition of config a1
        *_run(a2, 0.30, 120, 80),
        *_run(a3, 0.30, 90, 120),  # ties a2 on energy, faster: wins the tie
        *_run(b1, 0.20, 30, 200, power_w=500, flags=(QualityFlagCode.THROTTLED,)),
        *_run(
            b2.model_copy(update={"protocol": MeasurementProtocol(power_limit_w=250)}),
            0.25,
            30,
            150,
            power_w=300,
        ),
        *_run(ghost, 0.01, 10, 900),  # attempt 1 of a job that was taken over: superseded
        events.started(ghost, 2),
        events.started(unmetered, 1),  # completed with meter "none": no energy, not on the board
        events.completed(unmetered, 1),
    ]


async def test_leaderboard_semantics_and_the_export_agree(
    seed_of: SeedOf,
    js: JetStreamContext,
    layout: Layout,
    service_env: dict[str, str],
    database_url: str,
    tmp_path: Path,
) -> None:
    await ingest(js, layout, service_env, tmp_path, _seed())
    app = create_app(
        ApiSettings(
            nats_nkey_seed=seed_of("api", layout.prefix),
            database_url=database_url,
            nats_url=service_env["LLEM_NATS_URL"],
            prefix=layout.prefix,
        )
    )
    async with AsyncTestClient(app=app) as client:

        async def board(**params: Any) -> dict[str, Any]:
            resp = await client.get("/api/leaderboard", params=params)
            assert resp.status_code == 200, resp.text
            return resp.json()  # type: ignore[no-any-return]

        def best(doc: dict[str, Any]) -> dict[str, str]:
            return {row["model"]: row["config_id"] for row in doc["best"]}

        cfg = {name: str(uuid.uuid5(CID, name)) for name in ("a1", "a2", "a3", "b1", "b2", "ghost")}
        everything = await board()
        assert best(everything) == {"A": cfg["a3"], "B": cfg["b1"]}, "lowest J/token; tie to the faster"
        rows = {row["config_id"]: row for row in everything["best"]}
        assert rows[cfg["b1"]]["quality_flags"] == ["throttled"], "a flagged run is shown with its flag"
        assert cfg["ghost"] not in {p["config_id"] for p in everything["points"]}, "superseded runs excluded"

        a1 = next(p for p in everything["points"] if p["config_id"] == cfg["a1"])
        assert abs(a1["energy_per_output_token_j"] - 0.5) < 1e-9
        pareto = {p["config_id"]: p["pareto_optimal"] for p in everything["points"] if p["model"] == "A"}
        assert pareto == {cfg["a1"]: True, cfg["a2"]: False, cfg["a3"]: True}, "a2 is dominated by a3"

        assert best(await board(max_itl_ms=100)) == {"A": cfg["a3"], "B": cfg["b1"]}
        assert best(await board(max_itl_ms=50)) == {"A": cfg["a1"], "B": cfg["b1"]}
        assert best(await board(max_itl_ms=50, itl_percentile="p50")) == {"A": cfg["a3"], "B": cfg["b1"]}
        assert best(await board(max_power_w=400)) == {"A": cfg["a3"], "B": cfg["b2"]}
        assert best(await board(max_itl_ms=5)) == {}, "no configuration meets it: no winner, points stay"
        assert best(await board(model="B")) == {"B": cfg["b1"]}

        detail = (await board(max_itl_ms=50))["best"][0]
        interval = detail["energy_per_output_token_j_interval"]
        assert (
            detail["runs"] == 2 and interval["n"] == 2 and interval["ci95_low"] < 0.5 < interval["ci95_high"]
        )

        bad = await client.get("/api/leaderboard", params={"itl_percentile": "p42"})
        assert bad.status_code == 400 and "itl_percentile" in bad.text
        assert bad.headers["content-type"].startswith("application/problem+json")

        api_doc = await board()
        api_configs = (await client.get("/api/configurations")).json()
        by_id = {c["config_id"]: c for c in api_configs["configurations"]}
        assert set(by_id) == {cfg[n] for n in ("a1", "a2", "a3", "b1", "b2")}, "every counted configuration"
        assert by_id[cfg["a1"]] == next(r for r in (await board(max_itl_ms=50))["best"] if r["model"] == "A")
        assert api_configs["unmeasured"] == {"runs": 1, "meters": ["none"]}, "C's run: no energy measured"
        assert (by_id[cfg["b2"]]["power_limit_w"], by_id[cfg["b1"]]["power_limit_w"]) == (250, None), (
            "the cap"
        )
        only_b = (await client.get("/api/configurations", params={"model": "B"})).json()
        assert {c["model"] for c in only_b["configurations"]} == {"B"} and only_b["unmeasured"]["runs"] == 0
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        files = await export_leaderboard(conn, tmp_path / "export")
    exported = json.loads((tmp_path / "export" / "leaderboard.json").read_text())
    assert exported == api_doc, "the API and the static export come from the same code"
    index = json.loads((tmp_path / "export" / "index.json").read_text())
    assert [m["file"] for m in index["models"]] == ["models/a.json", "models/b.json"]
    model_b = json.loads((tmp_path / "export" / "models" / "b.json").read_text())
    assert [r["config_id"] for r in model_b["best"]] == [cfg["b1"]]
    assert len(files) == 6  # leaderboard, configurations, 2 models, 1 task, index
    exported_configs = json.loads((tmp_path / "export" / "configurations.json").read_text())
    assert exported_configs == api_configs, "GET /api/configurations and configurations.json agree"

    served = create_app(
        ApiSettings(
            nats_nkey_seed=seed_of("api", layout.prefix),
            database_url=database_url,
            nats_url=service_env["LLEM_NATS_URL"],
            prefix=layout.prefix,
            export_dir=tmp_path / "export",
        )
    )
    async with AsyncTestClient(app=served) as client:
        resp = await client.get("/export/models/b.json")
        assert resp.status_code == 200 and resp.json() == model_b, "LLEM_EXPORT_DIR is served at /export/"
        assert (await client.get("/export/models/nope.json")).status_code == 404
        assert (await client.get("/export/../pyproject.toml")).status_code == 404


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.one_of(st.none(), st.integers(0, 6)), st.integers(0, 6)),  # small ranges: many ties
        max_size=25,
    )
)
def test_pareto_sweep_matches_the_definition(pairs: list[tuple[int | None, int]]) -> None:
    points = [
        ParetoPoint(
            config_id=str(i),
            model="m",
            energy_per_output_token_j=float(e),
            latency_ms=None if lat is None else float(lat),
            output_tokens_per_s=None,
            meets_constraints=True,
            pareto_optimal=False,
        )
        for i, (lat, e) in enumerate(pairs)
    ]
    _mark_pareto(points)

    def dominates(b: ParetoPoint, a: ParetoPoint) -> bool:
        if a.latency_ms is None or b.latency_ms is None:
            return False
        no_worse = b.latency_ms <= a.latency_ms and b.energy_per_output_token_j <= a.energy_per_output_token_j
        better = b.latency_ms < a.latency_ms or b.energy_per_output_token_j < a.energy_per_output_token_j
        return no_worse and better

    for a in points:
        expected = a.latency_ms is not None and not any(dominates(b, a) for b in points)
        assert a.pareto_optimal == expected, (a, points)
