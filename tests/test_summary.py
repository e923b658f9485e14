"""Energy arithmetic and quality flags on constructed sample series (pure computation, no meter)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from llem_runner.summary import energy, summarize
from llem_schemas import MeasurementProtocol, MetricSample
from llem_schemas.measurement import QualityFlagCode

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _series(
    gpu: int, powers: list[float], counter_step_j: float | None, period_s: float = 0.1
) -> list[MetricSample]:
    return [
        MetricSample(
            sampled_at=T0 + timedelta(seconds=i * period_s),
            gpu_index=gpu,
            power_w=p,
            energy_counter_j=1000 + i * counter_step_j if counter_step_j is not None else None,
        )
        for i, p in enumerate(powers)
    ]


def test_counter_energy_sums_gpus_and_agrees_with_integrated_power() -> None:
    samples = _series(0, [100.0] * 11, 10.0) + _series(1, [200.0] * 11, 20.0)
    total, source, flags = energy(samples)
    assert source == "counter"
    assert total is not None
    assert abs(total - 300.0) < 1e-9
    assert flags == []


def test_counter_and_integral_disagreeing_is_flagged_with_the_percentage() -> None:
    samples = _series(0, [100.0] * 11, 12.0)  # counter 120 J, integrated 100 J
    total, _, flags = energy(samples)
    assert total is not None
    assert abs(total - 120.0) < 1e-9
    assert [f.code for f in flags] == [QualityFlagCode.COUNTER_INTEGRAL_MISMATCH]
    assert flags[0].value is not None
    assert abs(flags[0].value - 100 / 6) < 1e-6


def test_without_counter_energy_falls_back_to_integrated_power() -> None:
    total, source, _ = energy(_series(0, [50.0] * 21, None))
    assert source == "integrated_power"
    assert total is not None
    assert abs(total - 100.0) < 1e-9


def test_host_only_samples_give_no_energy() -> None:
    assert energy([MetricSample(sampled_at=T0, output_tokens_total=1)]) == (None, None, [])


def test_gaps_and_short_windows_are_flagged() -> None:
    samples = _series(0, [100.0] * 3, 10.0)
    gap = samples[-1].model_copy(update={"sampled_at": T0 + timedelta(seconds=2)})
    summary = summarize(
        [],
        [*samples[:-1], gap],
        T0,
        T0 + timedelta(seconds=2),
        "nvml",
        MeasurementProtocol(sampling_period_ms=100),
    )
    codes = {f.code for f in summary.quality_flags}
    assert QualityFlagCode.SAMPLE_GAP in codes
    assert QualityFlagCode.SHORT_WINDOW in codes
    assert summary.measurement.energy_source == "counter"
