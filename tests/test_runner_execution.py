"""The runner's job execution on a real llama.cpp model, without a broker (events collected in order)."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from pathlib import Path

import pytest

from llem_runner.errors import JobRejected
from llem_runner.execute import JobExecution, RunIdentity
from llem_schemas import (
    Event,
    JobSpec,
    LlamaCppBackend,
    MeasurementProtocol,
    MetricBatch,
    RequestBatch,
    RunCompleted,
    RunStarted,
    Workload,
)
from llem_schemas.measurement import QualityFlagCode


def _job(model: Path, **workload: object) -> JobSpec:
    return JobSpec(
        job_id=uuid.uuid4(),
        campaign_id=uuid.uuid4(),
        pool="cpu",
        backend=LlamaCppBackend(model_path=str(model), n_ctx=256, n_threads=1),
        workload=Workload.model_validate({"num_requests": 3, "max_output_tokens": 8, **workload}),
        protocol=MeasurementProtocol(
            meter="none", sampling_period_ms=20, warmup_requests=1, metric_batch_max_samples=2
        ),
    )


async def _run(job: JobSpec) -> tuple[list[Event], int]:
    events: list[Event] = []
    keepalives = 0

    async def emit(event: Event) -> None:
        events.append(event)

    async def keepalive() -> None:
        nonlocal keepalives
        keepalives += 1

    ident = RunIdentity(run_id=uuid.uuid4(), runner_id="test-runner", attempt=1)
    await JobExecution(job, ident, emit, keepalive, keepalive_interval_s=0.01).run()
    return events, keepalives


async def test_a_run_emits_started_metrics_and_completed(tiny_model: Path) -> None:
    events, _ = await _run(_job(tiny_model, ignore_eos=True))
    assert isinstance(events[0], RunStarted)
    assert isinstance(events[-1], RunCompleted)
    batches = [e for e in events if isinstance(e, MetricBatch)]
    assert batches, "at least one metric batch"
    assert [b.seq for b in batches] == list(range(len(batches)))
    assert all(len(b.samples) <= 2 for b in batches)

    started, completed = events[0], events[-1]
    assert started.meter == "none"
    assert started.fingerprint.backend == "llama_cpp"
    assert started.fingerprint.backend_version
    summary = completed.summary
    assert summary.requests_total == 3
    assert summary.requests_failed == 0
    assert summary.output_tokens == 3 * 8, "ignore_eos decodes exactly max_output_tokens"
    assert summary.prompt_tokens is not None
    assert summary.prompt_tokens > 0
    assert summary.e2e_ms.p50_ms is not None
    assert summary.ttft_ms.p50_ms is not None
    # No GPU: energy is null, never estimated, and the run says why.
    assert summary.energy_j is None
    assert summary.energy_per_output_token_j is None
    assert summary.measurement.meter == "none"
    assert summary.measurement.energy_source is None
    assert QualityFlagCode.NO_ENERGY_METER in {f.code for f in summary.quality_flags}
    last_sample = batches[-1].samples[-1]
    assert last_sample.output_tokens_total == summary.output_tokens
    # per-request records, published before the completion
    [requests] = [e for e in events if isinstance(e, RequestBatch)]
    assert events.index(requests) == len(events) - 2
    assert [(r.repetition, r.index) for r in requests.requests] == [(0, 0), (0, 1), (0, 2)]
    assert sum(r.output_tokens for r in requests.requests) == summary.output_tokens
    assert all(r.ttft_ms is not None and r.itl_count == 7 and r.energy_j is None for r in requests.requests)
    assert last_sample.power_w is None
    assert last_sample.energy_counter_j is None


async def test_missing_model_is_rejected_not_retried(tmp_path: Path) -> None:
    with pytest.raises(JobRejected, match="model file not found"):
        await _run(_job(tmp_path / "missing.gguf"))
    assert not JobRejected.retryable


async def test_repetitions_are_measured_separately_and_summarised(tiny_model: Path, tmp_path: Path) -> None:
    import hashlib

    job = _job(tiny_model, ignore_eos=True).model_copy(
        update={
            "protocol": MeasurementProtocol(
                meter="none", sampling_period_ms=20, warmup_requests=0, repetitions=3, cooldown_s=0.05
            )
        }
    )
    events, _ = await _run(job)
    started, completed = events[0], events[-1]
    assert isinstance(started, RunStarted) and isinstance(completed, RunCompleted)
    assert (
        started.fingerprint.model_sha256
        == hashlib.sha256(await asyncio.to_thread(tiny_model.read_bytes)).hexdigest()
    )
    summary = completed.summary
    assert [r.repetition for r in summary.repetitions] == [0, 1, 2]
    assert all(r.output_tokens == 3 * 8 for r in summary.repetitions)
    assert summary.output_tokens == 3 * 3 * 8 and summary.requests_total == 9
    windows = [(r.window_start, r.window_end) for r in summary.repetitions]
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(windows)), "repetitions do not overlap"
    assert (windows[1][0] - windows[0][1]).total_seconds() >= 0.05, "the cooldown separates them"
    stats = summary.repetition_stats["output_tokens_per_s"]
    assert stats.n == 3 and stats.std is not None
    assert "energy_j" not in summary.repetition_stats, "no energy without a meter: no made-up spread"
