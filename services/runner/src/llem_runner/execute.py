"""Execute one job: idle baseline, load the backend, warm up, measure each repetition while streaming
samples, summarise. Plain async logic with two callbacks, so tests drive it without NATS: `emit`
publishes an event durably, `keepalive` tells the broker the job is still running.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar
from uuid import UUID

from llem_runner.backends import Backend, RequestResult, create_backend
from llem_runner.baseline import BaselineCache, IdleBaseline
from llem_runner.fingerprint import host_fingerprint, model_sha256
from llem_runner.loadgen import run_load
from llem_runner.meters import Meter, create_meter
from llem_runner.prompts import load_prompts
from llem_runner.sampler import Sampler, TokenCounters
from llem_runner.summary import Repetition, request_records, summarize
from llem_schemas.base import Event
from llem_schemas.events import MetricBatch, RequestBatch, RunCompleted, RunStarted
from llem_schemas.jobs import JobSpec

Emit = Callable[[Event], Awaitable[None]]
Keepalive = Callable[[], Awaitable[None]]
T = TypeVar("T")
REQUESTS_PER_EVENT = 1000


@dataclass(frozen=True)
class RunIdentity:
    run_id: UUID
    runner_id: str
    attempt: int


def _wall(monotonic_s: float | None, offset_s: float) -> datetime | None:
    return None if monotonic_s is None else datetime.fromtimestamp(monotonic_s + offset_s, UTC)


class JobExecution:
    def __init__(
        self,
        job: JobSpec,
        ident: RunIdentity,
        emit: Emit,
        keepalive: Keepalive,
        keepalive_interval_s: float,
        model_dir: Path | None = None,
        state_dir: Path | None = None,
        backend_factory: Callable[..., Backend] = create_backend,
    ) -> None:
        self.job, self.ident, self.emit, self.keepalive = job, ident, emit, keepalive
        self.keepalive_interval_s = keepalive_interval_s
        self.model_dir = model_dir
        self.state_dir = state_dir
        self._seq = 0
        self._stop = threading.Event()
        self._backend_factory = backend_factory

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
                MetricBatch.model_validate(
                    {
                        **self._ids(),
                        "seq": self._seq,
                        "meter": meter.name,
                        "sampling_period_ms": self.job.protocol.sampling_period_ms,
                        "samples": samples[start : start + limit],
                    }
                )
            )
            self._seq += 1

    async def _blocking(
        self, func: Callable[[], T], sampler: Sampler | None = None, meter: Meter | None = None
    ) -> T:
        """Run blocking work in a thread; meanwhile stream samples and keep the job alive."""
        task = asyncio.ensure_future(asyncio.to_thread(func))
        interval_s = self.job.protocol.metric_batch_max_interval_ms / 1000
        loop = asyncio.get_running_loop()
        last_keepalive = loop.time()
        try:
            while not task.done():
                await asyncio.wait([task], timeout=interval_s)
                if sampler is not None and meter is not None:
                    await self._flush(sampler, meter)
                if loop.time() - last_keepalive >= self.keepalive_interval_s:
                    await self.keepalive()
                    last_keepalive = loop.time()
        finally:
            if not task.done():
                # Cancelled (shutdown): threads cannot be killed, so ask the work to stop and let
                # the requests in flight finish before the backend is released.
                self._stop.set()
                await asyncio.shield(asyncio.wait([task], timeout=120))
        return task.result()

    def _baseline(self, meter: Meter) -> IdleBaseline | None:
        p = self.job.protocol
        cache = BaselineCache((self.state_dir or Path.home() / ".cache" / "llem") / "idle-baseline.json")
        return cache.get_or_measure(
            meter, p.idle_baseline_s, p.sampling_period_ms / 1000, p.idle_baseline_max_age_s
        )

    async def _started(self, backend: Backend, meter: Meter) -> None:
        sha = None
        if backend.model_file:
            cache = (self.state_dir / "model-sha256.json") if self.state_dir else None
            sha = await self._blocking(lambda: model_sha256(Path(str(backend.model_file)), cache))
        backend_cfg = self.job.backend
        model = backend_cfg.model_path if backend_cfg.kind == "llama_cpp" else backend_cfg.model
        fingerprint = host_fingerprint(meter, backend, model, sha)
        await self.emit(
            RunStarted.model_validate(
                {**self._ids(), "job": self.job, "fingerprint": fingerprint, "meter": meter.name}
            )
        )

    async def _repetition(
        self,
        index: int,
        backend: Backend,
        prompts: list[str],
        sampler: Sampler,
        meter: Meter,
        counters: TokenCounters,
    ) -> Repetition:
        def on_done(result: RequestResult) -> None:
            counters.requests_completed += 1
            if counters.prompt_tokens is not None and result.prompt_tokens is not None:
                counters.prompt_tokens += result.prompt_tokens
            else:
                counters.prompt_tokens = None
            counters.output_tokens += result.output_tokens

        offset = time.time() - time.monotonic()
        sampler.mark()
        start = datetime.now(UTC)
        load = await self._blocking(
            lambda: run_load(backend, self.job.workload, prompts, on_done, self._stop), sampler, meter
        )
        sampler.mark()
        end = datetime.now(UTC)
        return Repetition(
            index=index,
            results=load.results,
            window_start=start,
            window_end=end,
            steady_start=_wall(load.steady_start_s, offset),
            steady_end=_wall(load.steady_end_s, offset),
            wall_offset_s=offset,
        )

    def _warm_up(self, backend: Backend, prompts: list[str]) -> None:
        w = self.job.workload
        for i in range(self.job.protocol.warmup_requests):
            backend.generate(prompts[i % len(prompts)], w.max_output_tokens, w.ignore_eos)

    async def run(self, before_completion: Callable[[], Awaitable[None]] | None = None) -> RunCompleted:
        """Run the job. `before_completion` may raise to stop the completion event (fencing)."""
        job, protocol = self.job, self.job.protocol
        prompts = load_prompts(job.workload.prompt_set)
        meter = create_meter(protocol.meter)
        backend = self._backend_factory(job.backend, self.model_dir)
        restore_power_limit: Callable[[], None] | None = None
        try:
            baseline = await self._blocking(lambda: self._baseline(meter))
            if protocol.power_limit_w is not None:  # after the idle baseline, before the fingerprint
                limit = protocol.power_limit_w
                restore_power_limit = await self._blocking(lambda: meter.set_power_limit(limit))
            await self._blocking(backend.start)
            await self._blocking(backend.validate)
            await self._started(backend, meter)
            await self._blocking(lambda: self._warm_up(backend, prompts))
            counters = TokenCounters()
            sampler = Sampler(meter, protocol.sampling_period_ms / 1000, counters)
            sampler.start()
            reps: list[Repetition] = []
            try:
                for index in range(protocol.repetitions):
                    if index and protocol.cooldown_s:
                        await self._blocking(lambda: time.sleep(protocol.cooldown_s), sampler, meter)
                    reps.append(await self._repetition(index, backend, prompts, sampler, meter, counters))
            finally:
                sampler.stop()
            await self._flush(sampler, meter)
            summary = summarize(reps, sampler.all_samples, meter.name, protocol, baseline)
            completed = RunCompleted.model_validate({**self._ids(), "summary": summary})
            if before_completion is not None:
                await before_completion()
            records = request_records(reps, sampler.all_samples)
            for seq, start in enumerate(range(0, len(records), REQUESTS_PER_EVENT)):
                batch = {**self._ids(), "seq": seq, "requests": records[start : start + REQUESTS_PER_EVENT]}
                await self.emit(RequestBatch.model_validate(batch))
            await self.emit(completed)
            return completed
        finally:
            await asyncio.to_thread(backend.stop)
            if restore_power_limit is not None:
                await asyncio.to_thread(restore_power_limit)
            meter.close()
