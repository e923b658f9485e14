"""make bench-meter: the cost of metering and event publishing on inference throughput.

Same process, same loaded llama.cpp model (the project's tiny GGUF, n_threads=1), interleaved pairs
in a seeded shuffled order: `off` runs the requests bare; `on` runs them with the 10 Hz sampler and
metric batches published to a real NATS JetStream (PubAck awaited), as a runner does. Output tokens/s
of each repetition, the on/off ratio per pair, and its spread go to bench/results/meter.json.
There is no GPU here: the meter is `none` (the sampler still reads token counters and the batches
still go through JetStream); on a GPU box the NVML read cost adds about 5 ms per 100 ms period in the
sampler thread (measured by scripts/gpu-check.sh), off the inference thread.
"""

from __future__ import annotations

import asyncio
import json
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import nats

from llem.devstack import NatsServer
from llem_control.bootstrap import bootstrap
from llem_runner.backends.base import RequestResult
from llem_runner.backends.llama_cpp import LlamaCppBackend
from llem_runner.execute import JobExecution, RunIdentity
from llem_runner.loadgen import run_load
from llem_runner.prompts import load_prompts
from llem_runner.publisher import EventPublisher
from llem_runner.spool import Spool
from llem_runner.tinymodel import write_tiny_model
from llem_schemas import JobSpec, MeasurementProtocol, Workload
from llem_schemas import LlamaCppBackend as LlamaCppConfig
from llem_schemas.subjects import Layout

PAIRS = 20
WORKLOAD = Workload(num_requests=500, max_output_tokens=32, ignore_eos=True)


class _Loaded(LlamaCppBackend):
    """The already-loaded model, shared by every repetition (start/stop are no-ops)."""

    def __init__(self, inner: LlamaCppBackend) -> None:
        self.__dict__.update(inner.__dict__)

    def start(self) -> None:
        pass

    def validate(self) -> None:
        pass

    def stop(self) -> None:
        pass


Result = tuple[float, float]  # (output tokens/s, this process's CPU ms per output token)


def _off(backend: LlamaCppBackend, prompts: list[str]) -> Result:
    tokens = 0

    def done(r: RequestResult) -> None:
        nonlocal tokens
        tokens += r.output_tokens

    t0, c0 = time.perf_counter(), time.process_time()
    run_load(backend, WORKLOAD, prompts, done)
    return tokens / (time.perf_counter() - t0), (time.process_time() - c0) * 1000 / tokens


async def _on(backend: LlamaCppBackend, job: JobSpec, publisher: EventPublisher) -> Result:
    async def keepalive() -> None:
        pass

    ident = RunIdentity(run_id=uuid.uuid4(), runner_id="bench", attempt=1)
    execution = JobExecution(
        job, ident, publisher.publish, keepalive, 10.0, backend_factory=lambda *_args: backend
    )
    c0 = time.process_time()
    completed = await execution.run()
    cpu_ms = (time.process_time() - c0) * 1000
    tps = completed.summary.output_tokens_per_s
    assert tps is not None
    return tps, cpu_ms / completed.summary.output_tokens


async def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="llem-bench-"))
    server = NatsServer(work / "nats").start()
    try:
        model = write_tiny_model(work / "tiny.gguf")
        inner = LlamaCppBackend(LlamaCppConfig(model_path=str(model), n_ctx=256, n_threads=1))
        inner.start()
        backend = _Loaded(inner)
        layout = Layout(prefix="bench")
        nc = await nats.connect(server.url)
        js = nc.jetstream()
        await bootstrap(js, layout, ["cpu"])

        async def raw(payload: bytes, subject: str, stream: str, msg_id: str) -> object:
            return await js.publish(subject, payload, headers={"Nats-Msg-Id": msg_id}, stream=stream)

        publisher = EventPublisher(layout, raw, Spool(work / "spool.jsonl", 10**8))
        job = JobSpec(
            job_id=uuid.uuid4(),
            campaign_id=uuid.uuid4(),
            pool="cpu",
            backend=LlamaCppConfig(model_path=str(model)),
            workload=WORKLOAD,
            protocol=MeasurementProtocol(
                meter="none",
                sampling_period_ms=100,
                warmup_requests=0,
                idle_baseline_s=0,
                metric_batch_max_samples=50,
                metric_batch_max_interval_ms=1000,
            ),
        )
        prompts = load_prompts(WORKLOAD.prompt_set)
        _off(backend, prompts)  # warm-up
        rng = random.Random(20261126)  # noqa: S311 (shuffles the order of benchmark modes)
        pairs = []
        for _ in range(PAIRS):
            order = ["off", "on"]
            rng.shuffle(order)
            result: dict[str, Result] = {}
            for mode in order:
                result[mode] = _off(backend, prompts) if mode == "off" else await _on(backend, job, publisher)
            pairs.append(result)
        await nc.close()
        inner.stop()
    finally:
        server.stop()
    ratios = [p["on"][0] / p["off"][0] for p in pairs]
    cpu_ratios = [p["on"][1] / p["off"][1] for p in pairs]
    overhead_pct = [(1 - r) * 100 for r in ratios]
    report = {
        "benchmark": "meter",
        "measured_at": datetime.now(UTC).isoformat(),
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpu": platform.processor() or None,
        },
        "setup": {
            "model": "tiny random-weight GGUF (64-dim, 2 layers), n_threads=1",
            "workload": WORKLOAD.model_dump(),
            "pairs": PAIRS,
            "sampling_hz": 10,
            "meter": "none (no GPU here); sampler thread + metric batches to JetStream with PubAck",
        },
        "tokens_per_s": {"off": [p["off"][0] for p in pairs], "on": [p["on"][0] for p in pairs]},
        "cpu_ms_per_token": {"off": [p["off"][1] for p in pairs], "on": [p["on"][1] for p in pairs]},
        "cpu_per_token_ratio_on_over_off": {
            "median": statistics.median(cpu_ratios),
            "quartiles": statistics.quantiles(cpu_ratios, n=4),
            "min": min(cpu_ratios),
            "max": max(cpu_ratios),
        },
        "ratio_on_over_off": {
            "values": ratios,
            "median": statistics.median(ratios),
            "min": min(ratios),
            "max": max(ratios),
            "stdev": statistics.stdev(ratios),
            "quartiles": statistics.quantiles(ratios, n=4),
        },
        "run_to_run_cv_pct": {
            mode: statistics.stdev(v) / statistics.mean(v) * 100
            for mode, v in (("off", [p["off"][0] for p in pairs]), ("on", [p["on"][0] for p in pairs]))
        },
        "overhead_pct": {
            "median": statistics.median(overhead_pct),
            "min": min(overhead_pct),
            "max": max(overhead_pct),
        },
        "goal": "overhead under 2%",
    }
    out = Path(__file__).parent / "results" / "meter.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    keys = ("ratio_on_over_off", "cpu_per_token_ratio_on_over_off", "overhead_pct", "run_to_run_cv_pct")
    print(json.dumps({k: report[k] for k in keys}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
