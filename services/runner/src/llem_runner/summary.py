"""Turn request results and meter samples into a run summary with quality flags."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from llem_runner.backends.base import RequestResult
from llem_runner.stats import latency_stats
from llem_schemas.jobs import MeasurementProtocol
from llem_schemas.measurement import (
    Measurement,
    MeterName,
    MetricSample,
    QualityFlag,
    QualityFlagCode,
    RunSummary,
)

MIN_WINDOW_S = 5.0
GAP_PERIODS = 3


def _per_gpu(samples: Sequence[MetricSample]) -> dict[int, list[MetricSample]]:
    by_gpu: dict[int, list[MetricSample]] = defaultdict(list)
    for s in samples:
        if s.gpu_index is not None:
            by_gpu[s.gpu_index].append(s)
    return by_gpu


def _counter_energy_j(series: list[MetricSample]) -> float | None:
    first, last = series[0].energy_counter_j, series[-1].energy_counter_j
    return last - first if first is not None and last is not None else None


def _integrated_energy_j(series: list[MetricSample]) -> float | None:
    points = [(s.sampled_at, s.power_w) for s in series if s.power_w is not None]
    if len(points) < 2:
        return None
    return sum((t1 - t0).total_seconds() * (p0 + p1) / 2 for (t0, p0), (t1, p1) in itertools.pairwise(points))


def energy(samples: Sequence[MetricSample]) -> tuple[float | None, str | None, list[QualityFlag]]:
    """Total energy over all GPUs: the counter when every GPU has it, else integrated power."""
    by_gpu = _per_gpu(samples)
    if not by_gpu:
        return None, None, []
    counter = [_counter_energy_j(series) for series in by_gpu.values()]
    integral = [_integrated_energy_j(series) for series in by_gpu.values()]
    flags: list[QualityFlag] = []
    if all(c is not None for c in counter):
        total = sum(c for c in counter if c is not None)
        if all(i is not None for i in integral) and total > 0:
            integrated = sum(i for i in integral if i is not None)
            diff_pct = abs(integrated - total) / total * 100
            if diff_pct > 5:
                flags.append(
                    QualityFlag(
                        code=QualityFlagCode.COUNTER_INTEGRAL_MISMATCH,
                        value=diff_pct,
                        detail=f"energy counter {total:.1f} J vs integrated power {integrated:.1f} J "
                        f"({diff_pct:.1f}% apart)",
                    )
                )
        return total, "counter", flags
    if all(i is not None for i in integral):
        return sum(i for i in integral if i is not None), "integrated_power", flags
    return None, None, flags


def _gap_flags(samples: Sequence[MetricSample], period_s: float) -> list[QualityFlag]:
    times = sorted({s.sampled_at for s in samples})
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    worst = max(gaps, default=0.0)
    if worst > GAP_PERIODS * period_s:
        return [
            QualityFlag(
                code=QualityFlagCode.SAMPLE_GAP,
                value=worst * 1000,
                detail=f"largest gap between samples {worst * 1000:.0f} ms "
                f"(> {GAP_PERIODS} x {period_s * 1000:.0f} ms)",
            )
        ]
    return []


def summarize(
    results: Sequence[RequestResult],
    samples: Sequence[MetricSample],
    window_start: datetime,
    window_end: datetime,
    meter: MeterName,
    protocol: MeasurementProtocol,
) -> RunSummary:
    duration_s = (window_end - window_start).total_seconds()
    ok = [r for r in results if r.error is None]
    output_tokens = sum(r.output_tokens for r in ok)
    energy_j, source, flags = energy(samples)
    flags += _gap_flags(samples, protocol.sampling_period_ms / 1000) if meter != "none" else []
    if meter == "none":
        flags.append(
            QualityFlag(
                code=QualityFlagCode.NO_ENERGY_METER,
                detail="no energy meter on this runner: energy fields are null",
            )
        )
    if duration_s < MIN_WINDOW_S:
        flags.append(
            QualityFlag(
                code=QualityFlagCode.SHORT_WINDOW,
                value=duration_s,
                detail=f"measured window {duration_s:.2f} s is shorter than {MIN_WINDOW_S:.0f} s",
            )
        )
    if len(ok) < len(results):
        flags.append(
            QualityFlag(
                code=QualityFlagCode.FAILED_REQUESTS,
                value=len(results) - len(ok),
                detail=f"{len(results) - len(ok)} of {len(results)} requests failed",
            )
        )
    powers = [s.power_w for s in samples if s.power_w is not None]
    return RunSummary(
        duration_s=duration_s,
        requests_total=len(results),
        requests_failed=len(results) - len(ok),
        prompt_tokens=sum(r.prompt_tokens for r in ok),
        output_tokens=output_tokens,
        output_tokens_per_s=output_tokens / duration_s if duration_s > 0 else None,
        requests_per_s=len(ok) / duration_s if duration_s > 0 else None,
        energy_j=energy_j,
        energy_per_output_token_j=energy_j / output_tokens
        if energy_j is not None and output_tokens
        else None,
        energy_per_request_j=energy_j / len(ok) if energy_j is not None and ok else None,
        avg_power_w=energy_j / duration_s if energy_j is not None and duration_s > 0 else None,
        peak_power_w=max(powers) if powers else None,
        ttft_ms=latency_stats([r.ttft_ms for r in ok if r.ttft_ms is not None]),
        itl_ms=latency_stats([x for r in ok for x in r.itl_ms]),
        e2e_ms=latency_stats([r.e2e_ms for r in ok]),
        measurement=Measurement(
            meter=meter,
            sampling_period_ms=protocol.sampling_period_ms,
            energy_source=source,
            window_start=window_start,
            window_end=window_end,
            samples=len(samples),
            warmup_requests=protocol.warmup_requests,
        ),
        quality_flags=flags,
    )
