"""Run events as a runner would publish them, for tests that play a runner's part on the wire."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from llem_schemas.base import Event
from llem_schemas.events import FailureKind, RunCompleted, RunFailed, RunStarted
from llem_schemas.jobs import JobSpec, LlamaCppBackend
from llem_schemas.measurement import (
    LatencyStats,
    Measurement,
    QualityFlag,
    QualityFlagCode,
    RepetitionResult,
    RunSummary,
)


def started(job: JobSpec, attempt: int, runner: str = "r1", run_id: uuid.UUID | None = None) -> RunStarted:
    return RunStarted.model_validate(
        {
            "run_id": run_id or uuid.uuid4(),
            "job_id": job.job_id,
            "campaign_id": job.campaign_id,
            "runner_id": runner,
            "attempt": attempt,
            "job": job,
            "meter": "none",
            "fingerprint": {
                "hostname": "h",
                "os": "Linux",
                "python_version": "3.11",
                "backend": "llama_cpp",
                "llem_version": "0",
            },
        }
    )


def failed(
    job: JobSpec,
    attempt: int,
    retryable: bool,
    kind: FailureKind = "backend_error",
    runner: str = "r1",
) -> RunFailed:
    return RunFailed(
        run_id=uuid.uuid4(),
        job_id=job.job_id,
        campaign_id=job.campaign_id,
        runner_id=runner,
        attempt=attempt,
        reason="boom",
        failure_kind=kind,
        error_type="BackendError",
        retryable=retryable,
    )


def completed(job: JobSpec, attempt: int, runner: str = "r1") -> RunCompleted:
    now = datetime.now(UTC)
    summary = RunSummary(
        duration_s=1.0,
        requests_total=1,
        requests_failed=0,
        prompt_tokens=3,
        output_tokens=4,
        measurement=Measurement(meter="none", window_start=now, window_end=now, samples=0, warmup_requests=0),
        repetitions=[
            RepetitionResult(
                repetition=0, window_start=now, window_end=now, duration_s=1.0, requests=1, output_tokens=4
            )
        ],
    )
    return RunCompleted(
        run_id=uuid.uuid4(),
        job_id=job.job_id,
        campaign_id=job.campaign_id,
        runner_id=runner,
        attempt=attempt,
        summary=summary,
    )


def leaderboard_job(campaign_id: uuid.UUID, model: str, config: str) -> JobSpec:
    """A job of configuration `config` (its config_id derives from the name) of `model`."""
    return JobSpec(
        job_id=uuid.uuid4(),
        campaign_id=campaign_id,
        pool="h100",
        model_name=model,
        config_id=uuid.uuid5(campaign_id, config),
        backend=LlamaCppBackend(model_path=f"/m/{model}.gguf"),
    )


def measured_run(
    job: JobSpec,
    j_per_token: float,
    itl_p99: float,
    tokens_per_s: float,
    power_w: float = 300.0,
    flags: tuple[QualityFlagCode, ...] = (),
    attempt: int = 1,
) -> list[Event]:
    """`run.started` and `run.completed` of a run with the leaderboard's figures set."""
    run_id = uuid.uuid4()
    done = completed(job, attempt)
    summary = done.summary.model_copy(
        update={
            "energy_j": j_per_token * 4,
            "energy_per_output_token_j": j_per_token,
            "output_tokens_per_s": tokens_per_s,
            "avg_power_w": power_w,
            "itl_ms": LatencyStats(p50_ms=itl_p99 / 2, p99_ms=itl_p99),
            "ttft_ms": LatencyStats(p99_ms=20.0),
            "quality_flags": [QualityFlag(code=c, detail="test") for c in flags],
        }
    )
    return [
        started(job, attempt, run_id=run_id),
        done.model_copy(update={"run_id": run_id, "summary": summary}),
    ]
