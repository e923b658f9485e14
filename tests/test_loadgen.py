"""Load shapes: arrival processes, prompt order, concurrency limits and the steady-state window."""

from __future__ import annotations

import itertools
import statistics
from pathlib import Path

import pytest
from pydantic import ValidationError

from llem_runner.backends.base import RequestResult
from llem_runner.backends.llama_cpp import LlamaCppBackend
from llem_runner.errors import JobRejected
from llem_runner.loadgen import arrival_offsets_s, effective_concurrency, prompt_order, run_load
from llem_schemas import LlamaCppBackend as LlamaCppConfig
from llem_schemas import Workload


def test_all_at_once_arrivals_are_all_ready_at_zero() -> None:
    assert arrival_offsets_s(Workload(num_requests=4)) == [0.0] * 4


def test_poisson_arrivals_are_seeded_and_have_the_asked_rate() -> None:
    workload = Workload(num_requests=4000, arrival="poisson", request_rate_per_s=20.0, seed=7)
    offsets = arrival_offsets_s(workload)
    assert offsets == arrival_offsets_s(workload), "same seed, same schedule"
    assert offsets != arrival_offsets_s(workload.model_copy(update={"seed": 8}))
    gaps = [b - a for a, b in itertools.pairwise(offsets)]
    assert statistics.mean(gaps) == pytest.approx(1 / 20.0, rel=0.05)
    assert offsets[0] == 0.0 and all(g >= 0 for g in gaps)


def test_poisson_needs_a_rate() -> None:
    with pytest.raises(ValidationError, match="request_rate_per_s"):
        Workload(arrival="poisson")


def test_prompt_order_is_seeded_and_covers_the_requests() -> None:
    prompts = ["a", "b", "c"]
    order = prompt_order(prompts, Workload(num_requests=7, seed=1))
    assert len(order) == 7 and set(order) == set(prompts)
    assert order == prompt_order(prompts, Workload(num_requests=7, seed=1))


def test_llama_cpp_in_process_refuses_concurrency(tiny_model: Path) -> None:
    backend = LlamaCppBackend(LlamaCppConfig(model_path=str(tiny_model)))
    with pytest.raises(JobRejected, match="at most 1"):
        effective_concurrency(backend, Workload(concurrency=4))


def test_a_sequential_run_has_a_steady_state_and_counts_every_request(tiny_model: Path) -> None:
    backend = LlamaCppBackend(LlamaCppConfig(model_path=str(tiny_model), n_ctx=256, n_threads=1))
    backend.start()
    done: list[RequestResult] = []
    try:
        load = run_load(
            backend, Workload(num_requests=5, max_output_tokens=4, ignore_eos=True), ["hi", "yo"], done.append
        )
    finally:
        backend.stop()
    assert len(load.results) == len(done) == 5
    assert all(r.output_tokens == 4 for r in load.results)
    assert load.steady_start_s is not None and load.steady_end_s is not None
    assert load.started_at_s <= load.steady_start_s < load.steady_end_s <= load.ended_at_s
