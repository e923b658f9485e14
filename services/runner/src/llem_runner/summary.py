"""Turn repetitions (request results + windows) and meter samples into a run summary with flags."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from llem_runner.attribution import attribute
from llem_runner.backends.base import RequestResult
from llem_runner.baseline import IdleBaseline
from llem_runner.flags import quality_flags
from llem_runner.repetition import Repetition
from llem_runner.stats import interval_stats, latency_stats, percentile
from llem_runner.windows import WindowEnergy, energy_in_window, mismatch_flag
from llem_schemas.events import RequestRecord
from llem_schemas.jobs import MeasurementProtocol
from llem_schemas.measurement import (
    GpuEnergy,
    Measurement,
    MeterName,
    MetricSample,
    QualityFlag,
    RepetitionResult,
    RunSummary,
    SteadyState,
)

__all__ = ["Repetition", "energy", "request_records", "summarize"]


def energy(samples: Sequence[MetricSample]) -> tuple[float | None, str | None, list[QualityFlag]]:
    """Energy over the whole span of the samples: (joules, source, cross-check flags)."""
    if not samples:
        return None, None, []
    times = sorted(s.sampled_at for s in samples)
    window = energy_in_window(samples, times[0], times[-1])
    flag = mismatch_flag(window)
    return window.total_j, window.source, [flag] if flag else []


def _in(samples: Sequence[MetricSample], start: datetime, end: datetime) -> list[MetricSample]:
    return [s for s in samples if start <= s.sampled_at <= end]


def _prompt_tokens(ok: Sequence[RequestResult]) -> int | None:
    counts = [r.prompt_tokens for r in ok]
    return None if any(c is None for c in counts) else sum(c for c in counts if c is not None)


def _output_tokens(results: Sequence[RequestResult]) -> int:
    return sum(r.output_tokens for r in results if r.error is None)


def _per(value: float | None, divisor: float) -> float | None:
    return value / divisor if value is not None and divisor > 0 else None


def _repetition(rep: Repetition, window: WindowEnergy, idle_w: float | None) -> RepetitionResult:
    tokens = _output_tokens(rep.results)
    active = (
        window.total_j - idle_w * rep.duration_s
        if window.total_j is not None and idle_w is not None
        else None
    )
    return RepetitionResult(
        repetition=rep.index,
        window_start=rep.window_start,
        window_end=rep.window_end,
        duration_s=rep.duration_s,
        requests=len(rep.results),
        output_tokens=tokens,
        output_tokens_per_s=_per(float(tokens), rep.duration_s),
        energy_j=window.total_j,
        active_energy_j=active,
        energy_per_output_token_j=_per(window.total_j, tokens) if tokens else None,
    )


def _sum(values: Sequence[float | None]) -> float | None:
    return None if not values or any(v is None for v in values) else sum(v for v in values if v is not None)


def _tokens_at(samples: Sequence[MetricSample], t: datetime) -> float | None:
    points = [(s.sampled_at, s.output_tokens_total) for s in samples if s.output_tokens_total is not None]
    before = [p for p in points if p[0] <= t]
    after = [p for p in points if p[0] >= t]
    if not before or not after:
        return None
    (ta, va), (tb, vb) = before[-1], after[0]
    span = (tb - ta).total_seconds()
    return float(va) if span == 0 else va + (vb - va) * (t - ta).total_seconds() / span


def _steady_state(reps: Sequence[Repetition], samples: Sequence[MetricSample]) -> SteadyState | None:
    spans = [(r.steady_start, r.steady_end) for r in reps if r.steady_start and r.steady_end]
    if not spans:
        return None
    duration = sum((b - a).total_seconds() for a, b in spans)
    token_counts = [(_tokens_at(samples, b), _tokens_at(samples, a)) for a, b in spans]
    tokens = round(sum(b - a for b, a in token_counts if a is not None and b is not None))
    energy_j = _sum([energy_in_window(samples, a, b).total_j for a, b in spans])
    return SteadyState(
        window_start=spans[0][0],
        window_end=spans[-1][1],
        duration_s=duration,
        output_tokens=tokens,
        output_tokens_per_s=_per(float(tokens), duration),
        energy_j=energy_j,
        energy_per_output_token_j=_per(energy_j, tokens) if tokens else None,
        avg_power_w=_per(energy_j, duration),
    )


def _per_gpu(windows: Sequence[WindowEnergy]) -> list[GpuEnergy]:
    gpus = sorted({g for w in windows for g in w.per_gpu_j})
    return [
        GpuEnergy(
            gpu_index=g,
            energy_j=_sum([w.per_gpu_j.get(g) for w in windows]),
            source=windows[0].per_gpu_source.get(g),
        )
        for g in gpus
    ]


def _request_energy(
    reps: Sequence[Repetition], samples: Sequence[MetricSample], scale: float
) -> float | None:
    spans = [
        (r.started_at_s + rep.wall_offset_s, r.ended_at_s + rep.wall_offset_s)
        for rep in reps
        for r in rep.results
        if r.error is None
    ]
    per_request = attribute(spans, samples)
    return sum(per_request) * scale / len(per_request) if per_request else None


def summarize(
    reps: Sequence[Repetition],
    samples: Sequence[MetricSample],
    meter: MeterName,
    protocol: MeasurementProtocol,
    baseline: IdleBaseline | None,
) -> RunSummary:
    windows = [energy_in_window(samples, r.window_start, r.window_end) for r in reps]
    measured = [s for r in reps for s in _in(samples, r.window_start, r.window_end)]
    idle_w = baseline.power_w if baseline else None
    duration = sum(r.duration_s for r in reps)
    results = [res for r in reps for res in r.results]
    ok = [r for r in results if r.error is None]
    tokens = _output_tokens(results)
    energy_j = _sum([w.total_j for w in windows])
    pooled = WindowEnergy(
        total_j=energy_j,
        counter_j=_sum([w.counter_j for w in windows]),
        integrated_j=_sum([w.integrated_j for w in windows]),
    )
    integrated = pooled.integrated_j
    scale = energy_j / integrated if energy_j and integrated else 1.0
    per_rep = [_repetition(r, w, idle_w) for r, w in zip(reps, windows, strict=True)]
    powers = [s.power_w for s in measured if s.power_w is not None]
    steady = _steady_state(reps, samples)
    instants = len({s.sampled_at for s in measured})
    return RunSummary(
        duration_s=duration,
        requests_total=len(results),
        requests_failed=len(results) - len(ok),
        prompt_tokens=_prompt_tokens(ok),
        output_tokens=tokens,
        output_tokens_per_s=_per(float(tokens), duration),
        requests_per_s=_per(float(len(ok)), duration),
        energy_j=energy_j,
        active_energy_j=energy_j - idle_w * duration if energy_j is not None and idle_w is not None else None,
        energy_per_gpu=_per_gpu(windows),
        energy_per_output_token_j=_per(energy_j, tokens) if tokens else None,
        energy_per_request_j=_request_energy(reps, samples, scale) if energy_j is not None else None,
        cpu_energy_j=energy_j if meter == "rapl" else None,
        avg_power_w=_per(energy_j, duration),
        peak_power_w=max(powers) if powers else None,
        ttft_ms=latency_stats([r.ttft_ms for r in ok if r.ttft_ms is not None]),
        itl_ms=latency_stats([x for r in ok for x in r.itl_ms]),
        e2e_ms=latency_stats([r.e2e_ms for r in ok]),
        steady_state=steady,
        repetitions=per_rep,
        repetition_stats={
            name: stats
            for name, stats in (
                ("energy_j", interval_stats([p.energy_j for p in per_rep])),
                ("energy_per_output_token_j", interval_stats([p.energy_per_output_token_j for p in per_rep])),
                ("output_tokens_per_s", interval_stats([p.output_tokens_per_s for p in per_rep])),
            )
            if stats is not None
        },
        measurement=Measurement(
            meter=meter,
            sampling_period_ms=protocol.sampling_period_ms,
            achieved_sampling_hz=_per(float(instants), duration) if meter != "none" else None,
            energy_source=windows[0].source if windows and energy_j is not None else None,
            window_start=reps[0].window_start,
            window_end=reps[-1].window_end,
            samples=len(measured),
            warmup_requests=protocol.warmup_requests,
            idle_power_w=idle_w,
            idle_baseline_measured_at=baseline.measured_at if baseline else None,
            idle_baseline_s=baseline.duration_s if baseline else None,
            power_limit_w=protocol.power_limit_w,
        ),
        quality_flags=quality_flags(
            reps, measured, pooled, meter, protocol, baseline, steady, duration, results
        ),
    )


def request_records(reps: Sequence[Repetition], samples: Sequence[MetricSample]) -> list[RequestRecord]:
    """Every request of every repetition, with its attributed energy scaled like the run's
    J/request (so their mean is the summary's energy_per_request_j); null without a meter."""
    windows = [energy_in_window(samples, r.window_start, r.window_end) for r in reps]
    energy_j = _sum([w.total_j for w in windows])
    integrated = _sum([w.integrated_j for w in windows])
    scale = energy_j / integrated if energy_j and integrated else 1.0
    spans = [
        (r.started_at_s + rep.wall_offset_s, r.ended_at_s + rep.wall_offset_s)
        for rep in reps
        for r in rep.results
        if r.error is None
    ]
    attributed = iter(attribute(spans, samples) or []) if energy_j is not None else iter(())
    records = []
    for rep in reps:
        for index, r in enumerate(rep.results):
            energy = next(attributed, None) if r.error is None else None
            itl = sorted(r.itl_ms)
            records.append(
                RequestRecord(
                    repetition=rep.index,
                    index=index,
                    started_at=datetime.fromtimestamp(r.started_at_s + rep.wall_offset_s, UTC),
                    prompt_tokens=r.prompt_tokens,
                    output_tokens=r.output_tokens,
                    ttft_ms=r.ttft_ms,
                    e2e_ms=r.e2e_ms,
                    itl_count=len(itl),
                    itl_mean_ms=sum(itl) / len(itl) if itl else None,
                    itl_p50_ms=percentile(itl, 50) if itl else None,
                    itl_p99_ms=percentile(itl, 99) if itl else None,
                    energy_j=energy * scale if energy is not None else None,
                    error=r.error,
                )
            )
    return records
