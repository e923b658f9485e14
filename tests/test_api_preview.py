"""The preview of a campaign spec: the scheduler's expansion grouped per configuration (a plain
function, called directly), and the endpoint, which needs no token and publishes nothing."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from nats.js import JetStreamContext

from llem_api.app import create_app
from llem_api.preview import configurations
from llem_api.settings import ApiSettings
from llem_control.expand import expand
from llem_control.spec import validate_spec
from llem_schemas.subjects import Layout
from tests.natsauth import SeedOf


def _spec(**more: Any) -> dict[str, Any]:
    return {
        "name": "preview",
        "pools": [{"name": "gpu", "gpu": True}, {"name": "cpu", "gpu": False}],
        "models": [{"name": "tiny", "gguf": "tiny.gguf", "model_id": "org/tiny", "context_limit": 256}],
        "backends": [{"kind": "llama_cpp", "n_ctx": 256}, {"kind": "vllm"}],
        "workload": {"max_output_tokens": [8, 16]},
        "repetitions": 3,
        **more,
    }


def test_configurations_are_grouped_counted_and_ordered_by_pool_and_model() -> None:
    jobs = expand(validate_spec(_spec())).jobs
    groups = configurations(jobs)
    assert [g.pool for g in groups] == ["cpu"] * 2 + ["gpu"] * 4, "vllm dropped on cpu; sorted by pool"
    assert {g.jobs for g in groups} == {3}, "one job per repetition"
    assert sum(g.jobs for g in groups) == len(jobs)
    assert len({g.config_id for g in groups}) == len(groups)
    assert configurations(list(reversed(jobs)))[0].pool == "cpu"
    assert [g.config_id for g in configurations(jobs)] == [g.config_id for g in groups], "deterministic"
    pinned = configurations(expand(validate_spec(_spec(pin_repetitions=True))).jobs)
    assert [g.jobs for g in pinned] == [1] * 6 and {g.protocol.repetitions for g in pinned} == {3}


async def test_preview_needs_no_token_publishes_nothing_and_names_bad_fields(
    seed_of: SeedOf, js: JetStreamContext, layout: Layout, nats_server: Any, database_url: str
) -> None:
    settings = ApiSettings(
        nats_nkey_seed=seed_of("api", layout.prefix),
        database_url=database_url,
        nats_url=nats_server.url,
        prefix=layout.prefix,
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        resp = await client.post("/api/campaigns/preview", json=_spec())
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["name"] == "preview" and body["job_count"] == 18
        assert [c["jobs"] for c in body["configurations"]] == [3] * 6
        first = body["configurations"][0]
        assert first["pool"] == "cpu" and first["model_name"] == "tiny"
        assert first["backend"]["kind"] == "llama_cpp" and first["workload"]["max_output_tokens"] in (8, 16)
        assert [d["reason"] for d in body["dropped"]] == ["vLLM needs a GPU and pool 'cpu' has none"] * 2
        bad = _spec()
        bad["backends"][0]["n_ctx"] = "big"
        refused = await client.post("/api/campaigns/preview", json=bad)
        assert refused.status_code == 400 and "backends.0" in refused.text and "n_ctx" in refused.text
    for stream in layout.streams():
        assert (await js.stream_info(stream.name)).state.messages == 0, f"nothing published on {stream.name}"
