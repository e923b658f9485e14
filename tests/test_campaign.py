"""Campaign specs: grid expansion (property tests), pruning with reasons, spec errors, idempotent submit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nats.js import JetStreamContext
from pydantic import BaseModel

from llem_control.errors import SpecError
from llem_control.expand import expand
from llem_control.spec import load_spec, parse_spec
from llem_control.state import JobState, StateStore
from llem_control.submit import submit_campaign
from llem_schemas.campaign import CampaignSpec
from llem_schemas.events import JobQueued
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
    first = await submit_campaign(js, layout, spec, expansion)
    assert (first.queued, first.already) == (len(expansion.jobs), 0)
    again = await submit_campaign(js, layout, spec, expansion)
    assert (again.queued, again.already) == (0, len(expansion.jobs))
    assert (await js.stream_info(layout.jobs_stream)).state.messages == len(expansion.jobs)
    events = await js.stream_info(layout.events_stream)
    assert events.state.messages == 1 + len(expansion.jobs), (
        "one campaign.submitted and one job.queued per job"
    )
    # the work queue holds them in the expansion's (seeded, shuffled) order
    sub = await js.pull_subscribe(layout.pool_jobs("cpu"), stream=layout.jobs_stream, durable="pool-cpu")
    msgs = await sub.fetch(len(expansion.jobs), timeout=5)
    cpu_jobs = [j.job_id for j in expansion.jobs if j.pool == "cpu"]
    assert [JobQueued.model_validate_json(m.data).job.job_id for m in msgs] == cpu_jobs


@pytest.mark.layout(job_dedupe_window_s=1)
async def test_a_resubmit_after_the_duplicate_window_queues_nothing(
    js: JetStreamContext, layout: Layout
) -> None:
    spec = _spec([1024], [16], [1], 1)
    expansion = expand(spec)
    await submit_campaign(js, layout, spec, expansion)
    await asyncio.sleep(1.5)  # the stream forgot the message ids; the job states remain
    assert (await submit_campaign(js, layout, spec, expansion)).queued == 0
    assert (await js.stream_info(layout.jobs_stream)).state.messages == len(expansion.jobs)


async def test_a_submit_cut_short_is_completed_by_the_next(js: JetStreamContext, layout: Layout) -> None:
    """A crash between a job's state write and the work queue's PubAck leaves the job marked not
    enqueued; the next submit publishes it."""
    spec = _spec([1024], [16], [1], 1)
    expansion = expand(spec)
    store = StateStore(await js.key_value(layout.job_state_kv.bucket), 5)
    lost = expansion.jobs[0]
    pending = JobState(
        job_id=lost.job_id,
        campaign_id=lost.campaign_id,
        pool=lost.pool,
        status="queued",
        updated_at=datetime.now(UTC),
        enqueued=False,
    )
    await store.mutate(lost.job_id, lambda _: pending)
    result = await submit_campaign(js, layout, spec, expansion)
    assert result.queued == len(expansion.jobs)
    state, _ = await store.get(lost.job_id)
    assert state is not None and state.enqueued
    assert (await js.stream_info(layout.jobs_stream)).state.messages == len(expansion.jobs)


def test_pinned_repetitions_run_as_one_job_per_configuration_on_one_host() -> None:
    free = expand(_spec([1024], [16, 32], [1], 3))
    pinned_spec = _spec([1024], [16, 32], [1], 3).model_copy(update={"pin_repetitions": True})
    pinned = expand(pinned_spec)
    assert len(pinned.jobs) * 3 == len(free.jobs)
    assert (
        len({j.config_id for j in pinned.jobs}) == len({j.config_id for j in free.jobs}) == len(pinned.jobs)
    )
    assert all(j.protocol.repetitions == 3 and j.repetition == 0 for j in pinned.jobs)
    clash = pinned_spec.model_copy(update={"protocol": {"repetitions": 2}})
    with pytest.raises(SpecError, match=r"protocol\.repetitions"):
        expand(clash)


def test_a_power_limit_sweep_runs_on_gpu_pools_only() -> None:
    spec = _spec([1024], [16], [1], 1).model_copy(update={"protocol": {"power_limit_w": [300, 400]}})
    result = expand(spec)
    # per limit: one llama.cpp job and two vLLM jobs (max_num_seqs 8, 16) on the GPU pool
    assert sorted(j.protocol.power_limit_w or 0 for j in result.jobs) == [300] * 3 + [400] * 3
    assert all(j.pool == "h100" for j in result.jobs)
    assert any("power_limit_w needs GPUs and pool 'cpu'" in d.reason for d in result.dropped)


def test_grid_models_are_the_job_models_with_every_value_a_dimension() -> None:
    """A backend or workload parameter is declared once, in llem_schemas.jobs: the grid has it with the
    job's default, and it is a dimension unless the grid takes it as is."""
    from llem_schemas import campaign, jobs

    pairs: list[tuple[type[BaseModel], type[BaseModel], set[str]]] = [
        (campaign.LlamaCppGrid, jobs.LlamaCppBackend, {"model_path", "seed"}),
        (campaign.OpenAIGrid, jobs.OpenAICompatibleBackend, {"model"}),
        (campaign.VllmGrid, jobs.VllmBackend, {"model", "seed", "port", "startup_timeout_s"}),
        (campaign.WorkloadGrid, jobs.Workload, {"seed"}),
    ]
    for grid, job, not_in_campaigns in pairs:
        assert list(grid.model_fields) == [f for f in job.model_fields if f not in not_in_campaigns]
        for name, field in grid.model_fields.items():
            assert field.get_default(call_default_factory=True) == job.model_fields[name].get_default(
                call_default_factory=True
            ), (grid.__name__, name)
    assert campaign.VllmGrid.dimensions == {
        "tensor_parallel_size",
        "dtype",
        "quantization",
        "max_model_len",
        "gpu_memory_utilization",
        "max_num_seqs",
    }
    spec = _spec([1024], [16], [1], 1).model_copy(
        update={"backends": [campaign.VllmGrid.model_validate({"gpu_memory_utilization": [0.5, 0.8]})]}
    )
    assert sorted(j.backend.gpu_memory_utilization for j in expand(spec).jobs) == [0.5, 0.8]  # type: ignore[union-attr]


def test_a_dimension_takes_the_jobs_choices_and_never_an_empty_list() -> None:
    head = "name: x\npools: [{name: g}]\nmodels: [{name: m, model_id: o/m}]\n"
    with pytest.raises(SpecError, match=r"backends\.0\.dtype"):
        parse_spec(head + "backends: [{kind: vllm, dtype: [auto, half]}]\n")
    with pytest.raises(SpecError, match=r"workload\.arrival"):
        parse_spec(head + "backends: [{kind: vllm}]\nworkload: {arrival: []}\n")
