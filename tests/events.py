"""Run events as a runner would publish them, for tests that play a runner's part on the wire."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from llem_schemas.events import RunCompleted, RunFailed, RunStarted
from llem_schemas.jobs import JobSpec
from llem_schemas.measurement import Measurement, RepetitionResult, RunSummary


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
    job: JobSpec, attempt: int, retryable: bool, error_type: str = "BackendError", runner: str = "r1"
) -> RunFailed:
    return RunFailed(
        run_id=uuid.uuid4(),
        job_id=job.job_id,
        campaign_id=job.campaign_id,
        runner_id=runner,
        attempt=attempt,
        reason="boom",
        error_type=error_type,
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
