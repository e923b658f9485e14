"""Drive a backend with the job's load shape: request count, concurrency, arrival process.

Requests run on worker threads (one per request in flight). The generator records when the
configured concurrency is first reached and when the queue starts draining (the last request
is dispatched): that interval is the steady-state window.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from llem_runner.backends.base import Backend, RequestResult
from llem_runner.errors import JobRejected
from llem_schemas.jobs import Workload


@dataclass
class LoadResult:
    results: list[RequestResult]
    started_at_s: float  # monotonic
    ended_at_s: float
    steady_start_s: float | None
    steady_end_s: float | None


def arrival_offsets_s(workload: Workload) -> list[float]:
    """Seconds after the start at which each request becomes ready."""
    if workload.arrival == "all_at_once":
        return [0.0] * workload.num_requests
    rate = workload.request_rate_per_s
    assert rate is not None  # validated by Workload
    rng = random.Random(workload.seed)  # noqa: S311 (a benchmark's arrival process, not a secret)
    offsets, t = [], 0.0
    for _ in range(workload.num_requests):
        offsets.append(t)
        t += rng.expovariate(rate)
    return offsets


def prompt_order(prompts: list[str], workload: Workload) -> list[str]:
    rng = random.Random(workload.seed)  # noqa: S311
    order = list(prompts)
    rng.shuffle(order)
    return [order[i % len(order)] for i in range(workload.num_requests)]


def effective_concurrency(backend: Backend, workload: Workload) -> int:
    limit = backend.max_concurrency
    if limit is not None and workload.concurrency > limit:
        raise JobRejected(
            f"the {backend.kind} backend serves at most {limit} request(s) at once, the job asks for "
            f"concurrency {workload.concurrency}; use a server backend (openai, vllm) for concurrent load"
        )
    return workload.concurrency


class _Tracker:
    """Counts requests in flight and notes the steady-state boundaries."""

    def __init__(self, target: int, on_done: Callable[[RequestResult], None]) -> None:
        self.target, self.on_done = target, on_done
        self.lock = threading.Lock()
        self.in_flight = 0
        self.steady_start_s: float | None = None

    def begin(self) -> None:
        with self.lock:
            self.in_flight += 1
            if self.in_flight >= self.target and self.steady_start_s is None:
                self.steady_start_s = time.monotonic()

    def end(self, result: RequestResult) -> None:
        with self.lock:
            self.in_flight -= 1
        self.on_done(result)


def run_load(
    backend: Backend,
    workload: Workload,
    prompts: list[str],
    on_done: Callable[[RequestResult], None],
    stop: threading.Event | None = None,
) -> LoadResult:
    """Run every request of the workload; blocks until all are done, or until `stop` is set (then no
    new request starts and the ones in flight finish)."""
    stop = stop or threading.Event()
    ordered = prompt_order(prompts, workload)
    started = time.monotonic()
    if backend.batch_mode:
        results = backend.generate_batch(ordered, workload.max_output_tokens, workload.ignore_eos)
        for r in results:
            on_done(r)
        return LoadResult(results, started, time.monotonic(), None, None)
    concurrency = effective_concurrency(backend, workload)
    tracker = _Tracker(concurrency, on_done)
    slots = threading.Semaphore(concurrency)

    def one(prompt: str) -> RequestResult:
        try:
            tracker.begin()
            result = backend.generate(prompt, workload.max_output_tokens, workload.ignore_eos)
            tracker.end(result)
            return result
        finally:
            slots.release()

    futures: list[Future[RequestResult]] = []
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="llem-request") as pool:
        for offset, prompt in zip(arrival_offsets_s(workload), ordered, strict=True):
            delay = started + offset - time.monotonic()
            if delay > 0 and stop.wait(delay):
                break
            slots.acquire()
            if stop.is_set():
                slots.release()
                break
            futures.append(pool.submit(one, prompt))
        steady_end = time.monotonic()  # nothing left to dispatch: the queue starts draining
    results = [f.result() for f in futures]
    steady_start = tracker.steady_start_s
    if steady_start is None or steady_start >= steady_end:
        steady_start = steady_end = None  # type: ignore[assignment]
    return LoadResult(results, started, time.monotonic(), steady_start, steady_end if steady_start else None)
