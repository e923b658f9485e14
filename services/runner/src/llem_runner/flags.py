"""Quality flags: every run is stored, and says what limits its trustworthiness."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence

from llem_runner.backends.base import RequestResult
from llem_runner.baseline import IdleBaseline
from llem_runner.meters import ThrottleReason, throttle_decoder
from llem_runner.repetition import Repetition
from llem_runner.windows import WindowEnergy, mismatch_flag
from llem_schemas.jobs import MeasurementProtocol
from llem_schemas.measurement import MeterName, MetricSample, QualityFlag, QualityFlagCode, SteadyState

MIN_WINDOW_S = 5.0
GAP_PERIODS = 3


def _flag(code: QualityFlagCode, detail: str, value: float | None = None) -> QualityFlag:
    return QualityFlag(code=code, detail=detail, value=value)


def _gap(reps: Sequence[Repetition], samples: Sequence[MetricSample], period_s: float) -> QualityFlag | None:
    worst = 0.0
    for rep in reps:
        times = sorted({s.sampled_at for s in samples if rep.window_start <= s.sampled_at <= rep.window_end})
        worst = max([worst, *((b - a).total_seconds() for a, b in itertools.pairwise(times))])
    if worst <= GAP_PERIODS * period_s:
        return None
    return _flag(
        QualityFlagCode.SAMPLE_GAP,
        f"largest gap between samples {worst * 1000:.0f} ms (> {GAP_PERIODS} x {period_s * 1000:.0f} ms)",
        worst * 1000,
    )


def _temperature(samples: Sequence[MetricSample], limit_c: float) -> QualityFlag | None:
    temps: dict[int, list[float]] = defaultdict(list)
    for s in samples:
        if s.gpu_index is not None and s.temperature_c is not None:
            temps[s.gpu_index].append(s.temperature_c)
    drift = max((max(t) - min(t) for t in temps.values()), default=0.0)
    if drift <= limit_c:
        return None
    return _flag(
        QualityFlagCode.TEMPERATURE_DRIFT,
        f"GPU temperature moved {drift:.0f} C during the window (limit {limit_c:.0f} C)",
        drift,
    )


def _throttle(samples: Sequence[MetricSample], meter: MeterName) -> QualityFlag | None:
    decode = throttle_decoder(meter)
    hits = [reasons for s in samples if s.throttle_reasons and (reasons := decode(s.throttle_reasons))]
    if not hits:
        return None
    seen = {reason for reasons in hits for reason in reasons}
    names = ", ".join(reason for reason in ThrottleReason if reason in seen)
    share = len(hits) / len(samples) * 100
    return _flag(  # "NVML reported ...": the meter's name says whose bits these were
        QualityFlagCode.THROTTLED,
        f"{meter.upper()} reported throttling ({names}) in {share:.0f}% of samples",
        share,
    )


def quality_flags(
    reps: Sequence[Repetition],
    samples: Sequence[MetricSample],
    pooled: WindowEnergy,
    meter: MeterName,
    protocol: MeasurementProtocol,
    baseline: IdleBaseline | None,
    steady: SteadyState | None,
    duration_s: float,
    results: Sequence[RequestResult],
) -> list[QualityFlag]:
    flags: list[QualityFlag | None] = []
    if meter == "none":
        flags.append(
            _flag(QualityFlagCode.NO_ENERGY_METER, "no energy meter on this runner: energy fields are null")
        )
    else:
        flags += [
            mismatch_flag(pooled),
            _gap(reps, samples, protocol.sampling_period_ms / 1000),
            _temperature(samples, protocol.temperature_drift_c),
            _throttle(samples, meter),
        ]
        if baseline is None:
            flags.append(
                _flag(
                    QualityFlagCode.NO_IDLE_BASELINE,
                    "no idle baseline (disabled or not measurable): active energy is null",
                )
            )
    if duration_s < MIN_WINDOW_S:
        flags.append(
            _flag(
                QualityFlagCode.SHORT_WINDOW,
                f"measured window {duration_s:.2f} s is shorter than {MIN_WINDOW_S:.0f} s",
                duration_s,
            )
        )
    if steady is None:
        flags.append(
            _flag(
                QualityFlagCode.NO_STEADY_STATE,
                "the configured concurrency was never held while requests were still queued",
            )
        )
    failed = sum(1 for r in results if r.error is not None)
    if failed:
        flags.append(
            _flag(QualityFlagCode.FAILED_REQUESTS, f"{failed} of {len(results)} requests failed", failed)
        )
    return [f for f in flags if f is not None]
