"""Execute one job: load the backend, warm up, measure the requests, stream samples, summarise.

Plain async logic with two callbacks, so tests drive it without NATS: `emit` publishes an event
durably, `keepalive` tells the broker the job is still running.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from llem_runner.backends import Backend, RequestResult, create_backend
from llem_runner.fingerprint import host_fingerprint
from llem_runner.meters import Meter, create_meter
from llem_runner.prompts import load_prompts
from llem_runner.sampler import Sampler, TokenCounters
from llem_runner.summary import summarize
from llem_schemas.base import Event
from llem_schemas.events import MetricBatch, RunCompleted, RunStarted
from llem_schemas.jobs import JobSpec

Emit = Callable[[Event], Awaitable[None]]
Keepalive = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class RunIdentity:
    run_id: UUID
    runner_id: str
    attempt: int


def _measured_requests(
    backend: Backend,
    job: JobSpec,
    prompts: list[str],
    counters: TokenCounters,
) -> list[RequestResult]:
    results = []
    for i in range(job.workload.num_requests):
        result = backend.generate(
            prompts[i % len(prompts)], job.workload.max_output_tokens, job.workload.ignore_eos
        )
        counters.requests_completed += 1
        counters.prompt_tokens += result.prompt_tokens
        counters.output_tokens += result.output_tokens
        results.append(result)
    return results


class JobExecution:
    def __init__(
        self,
        job: JobSpec,
        ident: RunIdentity,
        emit: Emit,
        keepalive: Keepalive,
        keepalive_interval_s: float,
        model_dir: Path | None = None,
    ) -> None:
        self.job, self.ident, self.emit, self.keepalive = job, ident, emit, keepalive
        self.keepalive_interval_s = keepalive_interval_s
        self.model_dir = model_dir
        self._seq = 0

    def _ids(self) -> dict[str, object]:
        return {
            "run_id": self.ident.run_id,
            "job_id": self.job.job_id,
            "campaign_id": self.job.campaign_id,
            "runner_id": self.ident.runner_id,
            "attempt": self.ident.attempt,
        }

    async def _flush(self, sampler: Sampler, meter: Meter) -> None:
        samples = sampler.drain()
        limit = self.job.protocol.metric_batch_max_samples
        for start in range(0, len(samples), limit):
            await self.emit(
                MetricBatch(
                    **self._ids(),
                    seq=self._seq,
                    meter=meter.name,
                    sampling_period_ms=self.job.protocol.sampling_period_ms,
                    samples=samples[start : start + limit],
                )
            )
            self._seq += 1

    async def _while_running(
        self, task: asyncio.Future[list[RequestResult]], sampler: Sampler, meter: Meter
    ) -> list[RequestResult]:
        interval_s = self.job.protocol.metric_batch_max_interval_ms / 1000
        loop = asyncio.get_running_loop()
        last_keepalive = loop.time()
        while not task.done():
            await asyncio.wait([task], timeout=interval_s)
            await self._flush(sampler, meter)
            if loop.time() - last_keepalive >= self.keepalive_interval_s:
                await self.keepalive()
                last_keepalive = loop.time()
        return task.result()

    async def run(self) -> RunCompleted:
        job = self.job
        prompts = load_prompts(job.workload.prompt_set)
        meter = create_meter(job.protocol.meter)
        backend = create_backend(job.backend, self.model_dir)
        try:
            await asyncio.to_thread(backend.start)
            await self.emit(
                RunStarted(
                    **self._ids(),
                    job=job,
                    fingerprint=host_fingerprint(meter, backend),
                    meter=meter.name,
                )
            )
            for i in range(job.protocol.warmup_requests):
                await asyncio.to_thread(
                    backend.generate,
                    prompts[i % len(prompts)],
                    job.workload.max_output_tokens,
                    job.workload.ignore_eos,
                )
            counters = TokenCounters()
            sampler = Sampler(meter, job.protocol.sampling_period_ms / 1000, counters)
            sampler.start()
            window_start = datetime.now(UTC)
            task = asyncio.ensure_future(
                asyncio.to_thread(_measured_requests, backend, job, prompts, counters)
            )
            try:
                results = await self._while_running(task, sampler, meter)
            finally:
                sampler.stop()
                window_end = datetime.now(UTC)
                with contextlib.suppress(Exception):
                    await task
            await self._flush(sampler, meter)
            summary = summarize(
                results, sampler.all_samples, window_start, window_end, meter.name, job.protocol
            )
            completed = RunCompleted(**self._ids(), summary=summary)
            await self.emit(completed)
            return completed
        finally:
            await asyncio.to_thread(backend.stop)
            meter.close()
