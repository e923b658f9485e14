"""Campaign specs: grid expansion (property tests), pruning with reasons, spec errors, idempotent submit."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nats.js import JetStreamContext

from llem_scheduler.errors import SpecError
from llem_scheduler.expand import expand
from llem_scheduler.spec import load_spec, parse_spec
from llem_scheduler.submit import submit_campaign
from llem_schemas.campaign import CampaignSpec
from llem_schemas.subjects import Layout


def _spec(
    n_ctx: list[int],
    max_tokens: list[int],
    concurrency: list[int],
    reps: int,
    seed: int = 0,
    gpu: bool = True,
) -> CampaignSpec:
    return CampaignSpec.model_validate(
        {
            "name": "grid",
            "seed": seed,
            "repetitions": reps,
            "pools": [{"name": "cpu", "gpu": False}, {"name": "h100", "gpu": gpu}],
            "models": [
                {"name": "tiny", "gguf": "/m/tiny.gguf", "model_id": "org/tiny", "context_limit": 4096}
            ],
            "backends": [{"kind": "llama_cpp", "n_ctx": n_ctx}, {"kind": "vllm", "max_num_seqs": [8, 16]}],
            "workload": {"max_output_tokens": max_tokens, "concurrency": concurrency},
        }
    )


grids = st.lists(st.integers(min_value=64, max_value=8192), min_size=1, max_size=3, unique=True)


@settings(max_examples=40, deadline=None)
@given(
    n_ctx=grids,
    max_tokens=st.lists(st.integers(1, 512), min_size=1, max_size=3, unique=True),
    concurrency=st.lists(st.integers(1, 8), min_size=1, max_size=3, unique=True),
    reps=st.integers(1, 3),
)
def test_expansion_counts_prunes_with_reasons_and_is_deterministic(
    n_ctx: list[int], max_tokens: list[int], concurrency: list[int], reps: int
) -> None:
    spec = _spec(n_ctx, max_tokens, concurrency, reps)
    result = expand(spec)
    llama_combos = 2 * len(n_ctx) * len(max_tokens) * len(concurrency)  # 2 pools
    vllm_combos = 2 * 2 * len(max_tokens) * len(concurrency)  # 2 pools x max_num_seqs [8, 16]
    assert len(result.jobs) + len(result.dropped) * reps == (llama_combos + vllm_combos) * reps
    for d in result.dropped:
        assert d.reason, "every dropped combination says why"
    # The rules hold: no vLLM job on a CPU pool, no concurrent llama_cpp, everything fits its context.
    for job in result.jobs:
        assert not (job.backend.kind == "vllm" and job.pool == "cpu")
        assert not (job.backend.kind == "llama_cpp" and job.workload.concurrency > 1)
        if job.backend.kind == "llama_cpp":
            assert job.workload.max_output_tokens < job.backend.n_ctx <= 4096
    # Deterministic, content-addressed, repetitions share a configuration.
    again = expand(spec)
    assert [j.job_id for j in again.jobs] == [j.job_id for j in result.jobs]
    assert len({j.job_id for j in result.jobs}) == len(result.jobs)
    by_config: dict[object, int] = {}
    for job in result.jobs:
        by_config[job.config_id] = by_config.get(job.config_id, 0) + 1
    assert set(by_config.values()) <= {reps}


def test_the_seed_shuffles_the_order_but_not_the_jobs() -> None:
    a, b = (
        expand(_spec([1024, 2048], [16, 64], [1, 4], 2, seed=1)),
        expand(_spec([1024, 2048], [16, 64], [1, 4], 2, seed=2)),
    )
    assert sorted(
        j.model_dump_json(exclude={"job_id", "campaign_id", "config_id", "workload"}) for j in a.jobs
    ) == sorted(j.model_dump_json(exclude={"job_id", "campaign_id", "config_id", "workload"}) for j in b.jobs)
    order = [(j.pool, j.backend.kind, j.repetition) for j in a.jobs]
    assert order != sorted(order) or len(order) < 3, "shuffled, not in grid order"


def test_dropped_reasons_name_the_problem() -> None:
    reasons = {d.reason for d in expand(_spec([8192], [16], [1, 2], 1)).dropped}
    assert any("vLLM needs a GPU" in r for r in reasons)
    assert any("one request at a time" in r for r in reasons)
    assert any("above the model's limit 4096" in r for r in reasons)


def test_spec_errors_name_the_file_and_every_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: x\npools: [{name: 'a.b'}]\nmodels: [{name: m}]\nbackends: [{kind: llama_cpp, n_ctx: big}]\n"
    )
    with pytest.raises(SpecError) as exc:
        load_spec(bad)
    message = str(exc.value)
    assert str(bad) in message
    assert "pools.0.name" in message and "backends.0.n_ctx" in message and "models.0" in message
    with pytest.raises(SpecError, match="not valid YAML"):
        parse_spec("name: [unclosed", "x.yaml")
    with pytest.raises(SpecError, match="cannot read"):
        load_spec(tmp_path / "missing.yaml")


def test_the_example_campaign_expands() -> None:
    spec = load_spec(Path(__file__).parents[1] / "examples" / "tiny-sweep.yaml")
    result = expand(spec)
    assert len(result.jobs) == 10 and len(result.dropped) == 1


async def test_submitting_twice_queues_each_job_once(js: JetStreamContext, layout: Layout) -> None:
    spec = _spec([1024], [16, 32], [1], 2)
    expansion = expand(spec)
    assert await submit_campaign(js, layout, spec, expansion) == len(expansion.jobs)
    assert await submit_campaign(js, layout, spec, expansion) == 0
    assert (await js.stream_info(layout.jobs_stream)).state.messages == len(expansion.jobs)
    events = await js.stream_info(layout.events_stream)
    assert events.state.messages == 1 + len(expansion.jobs), (
        "one campaign.submitted and one job.queued per job"
    )
