"""The data the browser tests see, published through the real ingest path.

Four models on two GPU types and two backends; llama-3.1-8b has three configurations whose winner
changes with the ITL deadline (50 ms at p99 moves it from `c16` to `c4`); one configuration has two
runs (an interval); mistral-7b is throttled; a completed run without an energy meter is left out of
the ranking. The showcase run (llama's `c4`, also what a deadline of 50 ms picks) has two GPUs
sampled at 10 Hz for 40 s, two repetitions, a steady-state window, per-request records and flags.
`facts()` tells the tests which ids and figures to expect.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from llem_schemas import (
    CampaignProgress,
    CampaignSubmitted,
    JobQueued,
    JobSpec,
    MetricBatch,
    MetricSample,
    RequestBatch,
    RequestRecord,
)
from llem_schemas.base import Event
from llem_schemas.events import RunCompleted, RunStarted
from llem_schemas.jobs import LlamaCppBackend, MeasurementProtocol, VllmBackend, Workload
from llem_schemas.measurement import (
    GpuEnergy,
    GpuInfo,
    HostFingerprint,
    IntervalStats,
    LatencyStats,
    Measurement,
    QualityFlag,
    QualityFlagCode,
    RepetitionResult,
    RunSummary,
    SteadyState,
)

CAMPAIGN = uuid.UUID("6f1b0c52-7d1e-4c57-9a51-0b1e7c0de001")
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
H100 = "NVIDIA H100 80GB HBM3"
A100 = "NVIDIA A100-SXM4-80GB"

# model, config, gpu, gpus, concurrency, ITL p99 ms, avg W, runs (J/token of each); tok/s = W / (J/token)
CONFIGS: list[tuple[str, str, str, int, int, float, float, tuple[float, ...]]] = [
    ("llama-3.1-8b", "c1", H100, 1, 1, 18.0, 310.0, (0.92,)),
    ("llama-3.1-8b", "c4", H100, 2, 4, 42.0, 520.0, (0.40, 0.42)),
    ("llama-3.1-8b", "c16", H100, 2, 16, 96.0, 690.0, (0.22,)),
    ("qwen2.5-7b", "q4", A100, 1, 4, 35.0, 330.0, (0.55,)),
    ("qwen2.5-7b", "q16", A100, 1, 16, 81.0, 395.0, (0.31,)),
    ("mistral-7b", "m8", A100, 1, 8, 60.0, 380.0, (0.38,)),
]
SHOWCASE = ("llama-3.1-8b", "c4", 0)  # model, config, run index: the run with samples and requests
SAMPLE_HZ = 10
SHOWCASE_S = 40


def _config_id(model: str, config: str) -> uuid.UUID:
    return uuid.uuid5(CAMPAIGN, f"{model}/{config}")


def _run_id(model: str, config: str, index: int) -> uuid.UUID:
    return uuid.uuid5(_config_id(model, config), f"run-{index}")


def _job(model: str, config: str, gpu: str, gpus: int, concurrency: int, index: int) -> JobSpec:
    backend = (
        VllmBackend(
            model=f"org/{model}", tensor_parallel_size=gpus, dtype="bfloat16", max_num_seqs=concurrency
        )
        if model != "mistral-7b"
        else LlamaCppBackend(model_path=f"/models/{model}.Q4_K_M.gguf", n_gpu_layers=-1)
    )
    return JobSpec(
        job_id=uuid.uuid5(_config_id(model, config), f"job-{index}"),
        campaign_id=CAMPAIGN,
        pool="h100" if gpu == H100 else "a100",
        repetition=index,
        config_id=_config_id(model, config),
        model_name=model,
        backend=backend,
        workload=Workload(prompt_set="chat", num_requests=64, max_output_tokens=128, concurrency=concurrency),
        protocol=MeasurementProtocol(
            meter="nvml",
            sampling_period_ms=100,
            repetitions=2,
            power_limit_w=350 if config == "c16" else None,
        ),
    )


def _fingerprint(gpu: str, gpus: int, backend: str) -> HostFingerprint:
    return HostFingerprint(
        hostname=f"box-{'h' if gpu == H100 else 'a'}",
        os="Linux 6.8.0",
        python_version="3.12.3",
        cpu_model="AMD EPYC 9454",
        cpu_count=96,
        memory_total_bytes=1_584_000_000_000,
        gpus=[
            GpuInfo(
                index=g,
                name=gpu,
                uuid=f"GPU-{gpu[7:11]}-{g}",
                memory_total_bytes=85_899_345_920,
                power_limit_w=700.0,
            )
            for g in range(gpus)
        ],
        gpu_driver_version="570.133.20",
        cuda_driver_version="12.8",
        nvml_version="12.570.133.20",
        backend=backend,
        backend_version="0.11.0" if backend == "vllm" else "0.3.16",
        model="org/model",
        model_sha256="9f2c" + "0" * 60 if backend == "llama_cpp" else None,
        llem_version="0.1.0",
    )


def _summary(
    start: datetime, duration_s: float, j_per_token: float, itl_p99: float, power: float, gpus: int
) -> RunSummary:
    energy = power * duration_s
    tokens = int(energy / j_per_token)
    tok_s = tokens / duration_s
    idle = 70.0 * gpus * duration_s
    end = start + timedelta(seconds=duration_s)
    half = start + timedelta(seconds=duration_s / 2)
    reps = [
        RepetitionResult(
            repetition=i,
            window_start=a,
            window_end=b,
            duration_s=duration_s / 2,
            requests=32,
            output_tokens=tokens // 2,
            output_tokens_per_s=tok_s,
            energy_j=energy / 2,
            active_energy_j=(energy - idle) / 2,
            energy_per_output_token_j=j_per_token * (1 + (0.02 if i else -0.02)),
        )
        for i, (a, b) in enumerate(((start, half), (half, end)))
    ]
    return RunSummary(
        duration_s=duration_s,
        requests_total=64,
        requests_failed=0,
        prompt_tokens=64 * 40,
        output_tokens=tokens,
        output_tokens_per_s=tok_s,
        requests_per_s=64 / duration_s,
        energy_j=energy,
        active_energy_j=energy - idle,
        energy_per_gpu=[
            GpuEnergy(gpu_index=g, energy_j=energy / gpus, source="counter") for g in range(gpus)
        ],
        energy_per_output_token_j=j_per_token,
        energy_per_request_j=energy / 64,
        avg_power_w=power,
        peak_power_w=power * 1.2,
        ttft_ms=LatencyStats(
            mean_ms=itl_p99 * 2,
            p50_ms=itl_p99 * 1.5,
            p90_ms=itl_p99 * 2.5,
            p95_ms=itl_p99 * 2.8,
            p99_ms=itl_p99 * 3,
        ),
        itl_ms=LatencyStats(
            mean_ms=itl_p99 * 0.5,
            p50_ms=itl_p99 * 0.45,
            p90_ms=itl_p99 * 0.8,
            p95_ms=itl_p99 * 0.9,
            p99_ms=itl_p99,
        ),
        e2e_ms=LatencyStats(
            mean_ms=itl_p99 * 80,
            p50_ms=itl_p99 * 75,
            p90_ms=itl_p99 * 100,
            p95_ms=itl_p99 * 110,
            p99_ms=itl_p99 * 120,
        ),
        steady_state=SteadyState(
            window_start=start + timedelta(seconds=duration_s * 0.2),
            window_end=start + timedelta(seconds=duration_s * 0.8),
            duration_s=duration_s * 0.6,
            output_tokens=int(tokens * 0.65),
            output_tokens_per_s=tok_s * 1.08,
            energy_j=energy * 0.6,
            energy_per_output_token_j=j_per_token * 0.95,
            avg_power_w=power * 1.05,
        ),
        repetitions=reps,
        repetition_stats={
            "energy_per_output_token_j": IntervalStats(
                n=2,
                mean=j_per_token,
                std=j_per_token * 0.028,
                ci95_low=j_per_token * 0.75,
                ci95_high=j_per_token * 1.25,
            )
        },
        measurement=Measurement(
            meter="nvml",
            sampling_period_ms=100,
            achieved_sampling_hz=9.8,
            energy_source="counter",
            window_start=start,
            window_end=end,
            samples=int(duration_s * SAMPLE_HZ) * gpus,
            warmup_requests=1,
            idle_power_w=70.0 * gpus,
            idle_baseline_measured_at=start - timedelta(seconds=30),
            idle_baseline_s=5.0,
        ),
    )


def _samples(run_ids: dict[str, Any], start: datetime, gpus: int) -> list[Event]:
    """10 Hz x 2 GPUs x 40 s, in batches of 50, with a shape: ramp, steady, drain."""
    samples = [
        MetricSample(
            sampled_at=start + timedelta(milliseconds=100 * k),
            gpu_index=g,
            power_w=120 + 380 * math.sin(math.pi * k / (SHOWCASE_S * SAMPLE_HZ)) + 15 * g,
            power_avg_w=115 + 370 * math.sin(math.pi * k / (SHOWCASE_S * SAMPLE_HZ)),
            energy_counter_j=25.0 * k * (g + 1),
            temperature_c=45 + 20 * k / (SHOWCASE_S * SAMPLE_HZ) + g,
            gpu_utilization_pct=min(100.0, 5 + k / 2),
            memory_used_bytes=40_000_000_000,
            sm_clock_mhz=1980 - 3 * (k % 50),
            memory_clock_mhz=2619,
            throttle_reasons=0,
        )
        for k in range(SHOWCASE_S * SAMPLE_HZ)
        for g in range(gpus)
    ]
    return [
        MetricBatch(**run_ids, seq=i // 50, meter="nvml", sampling_period_ms=100, samples=samples[i : i + 50])
        for i in range(0, len(samples), 50)
    ]


def _requests(run_ids: dict[str, Any], start: datetime) -> RequestBatch:
    return RequestBatch(
        **run_ids,
        seq=0,
        requests=[
            RequestRecord(
                repetition=i // 32,
                index=i % 32,
                started_at=start + timedelta(milliseconds=500 * i),
                prompt_tokens=40,
                output_tokens=128,
                ttft_ms=80 + 3 * (i % 17),
                e2e_ms=3000 + 40 * (i % 23),
                itl_count=127,
                itl_mean_ms=18 + (i % 11),
                itl_p50_ms=17 + (i % 11),
                itl_p99_ms=40 + (i % 7),
                energy_j=50 + (i % 13),
            )
            for i in range(64)
        ],
    )


def seed() -> list[Event]:
    events: list[Event] = [
        CampaignSubmitted(
            campaign_id=CAMPAIGN,
            name="web-browser-tests",
            description="seeded by tests/web_seed.py",
            job_count=9,
        )
    ]
    for index, (model, config, gpu, gpus, conc, itl, power, runs) in enumerate(CONFIGS):
        for r, j_per_token in enumerate(runs):
            job = _job(model, config, gpu, gpus, conc, r)
            run_id = _run_id(model, config, r)
            start = T0 + timedelta(minutes=10 * index + r)
            ids = {
                "run_id": run_id,
                "job_id": job.job_id,
                "campaign_id": CAMPAIGN,
                "runner_id": "box-1",
                "attempt": 1,
            }
            summary = _summary(start, SHOWCASE_S, j_per_token, itl, power, gpus)
            if model == "mistral-7b":
                summary = summary.model_copy(
                    update={
                        "quality_flags": [
                            QualityFlag(
                                code=QualityFlagCode.THROTTLED,
                                detail="power cap for 12% of the window",
                                value=0.12,
                            )
                        ]
                    }
                )
            events += [
                JobQueued(job=job),
                RunStarted(
                    **ids,
                    occurred_at=start,
                    job=job,
                    fingerprint=_fingerprint(gpu, gpus, job.backend.kind),
                    meter="nvml",
                ),
            ]
            if (model, config, r) == SHOWCASE:
                events += [*_samples(ids, start, gpus), _requests(ids, start)]
            events.append(
                RunCompleted(**ids, occurred_at=start + timedelta(seconds=SHOWCASE_S + 1), summary=summary)
            )
    # a completed run without an energy meter: stored, not ranked
    job = JobSpec(
        job_id=uuid.uuid5(CAMPAIGN, "unmetered"),
        campaign_id=CAMPAIGN,
        pool="cpu",
        model_name="tiny-random",
        backend=LlamaCppBackend(model_path="tiny-random.gguf"),
    )
    ids = {
        "run_id": uuid.uuid5(CAMPAIGN, "unmetered-run"),
        "job_id": job.job_id,
        "campaign_id": CAMPAIGN,
        "runner_id": "laptop",
        "attempt": 1,
    }
    start = T0 + timedelta(hours=2)
    events += [
        RunStarted(
            **ids, occurred_at=start, job=job, fingerprint=_fingerprint("none", 0, "llama_cpp"), meter="none"
        ),
        RunCompleted(
            **ids,
            occurred_at=start + timedelta(seconds=5),
            summary=RunSummary(
                duration_s=4.0,
                requests_total=8,
                requests_failed=0,
                prompt_tokens=80,
                output_tokens=256,
                output_tokens_per_s=64.0,
                measurement=Measurement(
                    meter="none",
                    window_start=start,
                    window_end=start + timedelta(seconds=4),
                    samples=0,
                    warmup_requests=1,
                ),
                quality_flags=[
                    QualityFlag(code=QualityFlagCode.NO_ENERGY_METER, detail="no NVML GPU, no RAPL")
                ],
            ),
        ),
        CampaignProgress(
            campaign_id=CAMPAIGN,
            status="finished",
            total=9,
            queued=0,
            running=0,
            completed=9,
            failed=0,
            cancelled=0,
            live_runners=1,
            eta_s=0,
            mean_job_duration_s=41.0,
        ),
    ]
    return events


def facts() -> dict[str, Any]:
    model, config, index = SHOWCASE
    return {
        "campaign_id": str(CAMPAIGN),
        "showcase_run_id": str(_run_id(model, config, index)),
        "showcase_samples": SHOWCASE_S * SAMPLE_HZ * 2,
        "unmetered_run_id": str(uuid.uuid5(CAMPAIGN, "unmetered-run")),
        "models": sorted({c[0] for c in CONFIGS}),
        "configs": {f"{c[0]}/{c[1]}": str(_config_id(c[0], c[1])) for c in CONFIGS},
        "deadline": {"max_itl_ms": 50, "model": "llama-3.1-8b", "without": "c16", "with": "c4"},
    }
