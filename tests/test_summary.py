"""Energy arithmetic, attribution, repetition statistics and quality flags on constructed sample
series (pure computation over numbers we choose, no meter involved)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from llem_runner.attribution import attribute
from llem_runner.backends.base import RequestResult
from llem_runner.baseline import IdleBaseline
from llem_runner.energy_source import increase, pick_energy
from llem_runner.stats import interval_stats
from llem_runner.summary import Repetition, energy, summarize
from llem_runner.windows import energy_in_window
from llem_schemas import MeasurementProtocol, MetricSample
from llem_schemas.measurement import QualityFlagCode

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _series(
    gpu: int, powers: list[float], counter_step_j: float | None, period_s: float = 0.1, **extra: object
) -> list[MetricSample]:
    return [
        MetricSample.model_validate(
            {
                "sampled_at": _at(i * period_s),
                "gpu_index": gpu,
                "power_w": p,
                "energy_counter_j": 1000 + i * counter_step_j if counter_step_j is not None else None,
                **extra,
            }
        )
        for i, p in enumerate(powers)
    ]


def _request(start_s: float, end_s: float, tokens: int = 10) -> RequestResult:
    # Request times are monotonic seconds; with wall_offset_s = T0's epoch they map onto the samples.
    return RequestResult(
        prompt_tokens=5,
        output_tokens=tokens,
        started_at_s=start_s,
        ttft_ms=10.0,
        e2e_ms=(end_s - start_s) * 1000,
    )


def _rep(index: int, start_s: float, end_s: float, results: list[RequestResult]) -> Repetition:
    return Repetition(
        index=index,
        results=results,
        window_start=_at(start_s),
        window_end=_at(end_s),
        steady_start=_at(start_s),
        steady_end=_at(end_s),
        wall_offset_s=T0.timestamp(),
    )


def test_counter_energy_sums_gpus_and_agrees_with_integrated_power() -> None:
    samples = _series(0, [100.0] * 11, 10.0) + _series(1, [200.0] * 11, 20.0)
    total, source, flags = energy(samples)
    assert source == "counter"
    assert total == pytest.approx(300.0)
    assert flags == []


def test_counter_and_integral_disagreeing_is_flagged_with_the_percentage() -> None:
    samples = _series(0, [100.0] * 11, 12.0)  # counter 120 J, integrated 100 J
    total, _, flags = energy(samples)
    assert total == pytest.approx(120.0)
    assert [f.code for f in flags] == [QualityFlagCode.COUNTER_INTEGRAL_MISMATCH]
    assert flags[0].value == pytest.approx(100 / 6)


def test_without_counter_energy_falls_back_to_integrated_power() -> None:
    total, source, _ = energy(_series(0, [50.0] * 21, None))
    assert source == "integrated_power"
    assert total == pytest.approx(100.0)


def test_window_edges_are_interpolated() -> None:
    samples = _series(0, [100.0] * 11, 10.0)  # 100 W for 1 s
    window = energy_in_window(samples, _at(0.25), _at(0.75))
    assert window.counter_j == pytest.approx(50.0)
    assert window.integrated_j == pytest.approx(50.0)


def test_rapl_host_counters_give_cpu_energy() -> None:
    samples = [
        MetricSample(sampled_at=_at(i), cpu_package_energy_counter_j=10.0 * i, dram_energy_counter_j=1.0 * i)
        for i in range(3)
    ]
    window = energy_in_window(samples, _at(0), _at(2))
    got: object = (window.total_j, window.source)  # object: mypy sees no overlap with an Approx
    assert got == (pytest.approx(22.0), "counter")


def test_host_only_samples_give_no_energy() -> None:
    assert energy([MetricSample(sampled_at=T0, output_tokens_total=1)]) == (None, None, [])


def test_attribution_splits_power_among_requests_in_flight() -> None:
    samples = _series(0, [100.0] * 21, 10.0)  # 100 W for 2 s = 200 J
    # r0 alone for 1 s (100 J), then r0 and r1 share the second second (50 J each).
    per_request: object = attribute(
        [(T0.timestamp(), _at(2).timestamp()), (_at(1).timestamp(), _at(2).timestamp())], samples
    )
    assert per_request == [pytest.approx(150.0), pytest.approx(50.0)]


@pytest.mark.parametrize(
    ("readings", "expected"),
    [
        ({"counter_j": 1.0, "integrated_j": 2.0, "package_j": 3.0}, (1.0, "counter")),
        ({"integrated_j": 2.0, "package_j": 3.0, "dram_j": 0.5}, (2.0, "integrated_power")),
        ({"package_j": 3.0, "dram_j": 0.5}, (3.5, "counter")),
        ({"package_j": 3.0}, (3.0, "counter")),
        ({"dram_j": 0.5}, (None, None)),  # DRAM alone is not host energy
        ({}, (None, None)),
    ],
)
def test_energy_source_order_is_counter_then_integrated_power_then_rapl(
    readings: dict[str, float], expected: tuple[float | None, str | None]
) -> None:
    assert pick_energy(**readings) == expected


def test_a_counter_increase_is_never_negative() -> None:
    assert increase(10.0, 12.5) == 2.5
    assert increase(10.0, 3.0) == 0.0, "a counter that went backwards (reset) adds nothing"
    assert increase(None, 3.0) is None
    assert increase(10.0, None) is None


def _gpu_counter(counters_j: list[float]) -> list[MetricSample]:
    return [
        MetricSample(sampled_at=_at(i), gpu_index=0, power_w=100.0, energy_counter_j=c)
        for i, c in enumerate(counters_j)
    ]


def _rapl(packages_j: list[float], drams_j: list[float]) -> list[MetricSample]:
    return [
        MetricSample(sampled_at=_at(i), cpu_package_energy_counter_j=p, dram_energy_counter_j=d)
        for i, (p, d) in enumerate(zip(packages_j, drams_j, strict=True))
    ]


@pytest.mark.parametrize(
    "samples",
    [_gpu_counter([1000.0, 1010.0, 5.0, 15.0]), _rapl([0.0, 10.0, 2.0, 12.0], [0.0, 1.0, 0.5, 1.5])],
    ids=["gpu-counter", "rapl"],
)
def test_windows_and_attribution_clamp_a_counter_reset_alike(samples: list[MetricSample]) -> None:
    """Between the 2nd and 3rd samples the counters go backwards: both count 0 there, not less."""
    t1, t2 = samples[1].sampled_at.timestamp(), samples[2].sampled_at.timestamp()
    assert energy_in_window(samples, samples[1].sampled_at, samples[2].sampled_at).total_j == 0.0
    assert attribute([(t1, t2)], samples) == [0.0]
    parts = [
        energy_in_window(samples, a.sampled_at, b.sampled_at).total_j for a, b in itertools.pairwise(samples)
    ]
    whole: object = attribute(
        [(samples[0].sampled_at.timestamp(), samples[-1].sampled_at.timestamp())], samples
    )
    assert whole == [pytest.approx(sum(p for p in parts if p is not None))]


def test_host_samples_add_no_energy_to_requests_once_a_gpu_was_sampled() -> None:
    """The same devices as the window total: RAPL counts only when no GPU was sampled."""
    samples = _series(0, [100.0] * 11, 10.0) + _rapl([0.0, 10.0], [0.0, 0.0])  # GPU: 100 J over 1 s
    assert energy_in_window(samples, _at(0), _at(1)).total_j == pytest.approx(100.0)
    per_request: object = attribute([(_at(0).timestamp(), _at(1).timestamp())], samples)
    assert per_request == [pytest.approx(100.0)]


def test_summary_pools_repetitions_and_reports_their_spread() -> None:
    samples = _series(0, [100.0] * 61, 10.0, temperature_c=50.0)  # 6 s at 100 W
    reps = [_rep(0, 0, 3, [_request(0, 3, tokens=300)]), _rep(1, 3, 6, [_request(3, 6, tokens=200)])]
    baseline = IdleBaseline(power_w=40.0, measured_at=T0, duration_s=5)
    summary = summarize(reps, samples, "nvml", MeasurementProtocol(sampling_period_ms=100), baseline)
    assert summary.duration_s == pytest.approx(6.0)
    assert summary.energy_j == pytest.approx(600.0)
    assert summary.active_energy_j == pytest.approx(600.0 - 40.0 * 6)
    assert summary.output_tokens == 500
    assert summary.energy_per_output_token_j == pytest.approx(600 / 500)
    assert summary.energy_per_request_j == pytest.approx(300.0)
    assert [r.energy_j for r in summary.repetitions] == [pytest.approx(300.0), pytest.approx(300.0)]
    per_token = summary.repetition_stats["energy_per_output_token_j"]
    assert per_token.n == 2 and per_token.mean == pytest.approx((1.0 + 1.5) / 2)
    assert per_token.ci95_low is not None and per_token.ci95_low < per_token.mean < per_token.ci95_high  # type: ignore[operator]
    assert summary.energy_per_gpu[0].energy_j == pytest.approx(600.0)
    assert summary.measurement.idle_power_w == 40.0
    assert summary.measurement.achieved_sampling_hz == pytest.approx(61 / 6, rel=0.05)
    assert summary.steady_state is not None and summary.steady_state.energy_j == pytest.approx(600.0)
    assert summary.quality_flags == []


def test_gaps_short_windows_drift_throttling_and_missing_baseline_are_flagged() -> None:
    samples = _series(0, [100.0] * 3, 10.0)
    hot = [
        s.model_copy(update={"temperature_c": 40.0 + 20 * i, "throttle_reasons": 0x4 if i else 0x1})
        for i, s in enumerate(samples)
    ]
    gap = hot[-1].model_copy(update={"sampled_at": _at(2)})
    summary = summarize(
        [_rep(0, 0, 2, [_request(0, 2)])],
        [*hot[:-1], gap],
        "nvml",
        MeasurementProtocol(sampling_period_ms=100),
        None,
    )
    codes = {f.code for f in summary.quality_flags}
    assert codes == {
        QualityFlagCode.SAMPLE_GAP,
        QualityFlagCode.SHORT_WINDOW,
        QualityFlagCode.TEMPERATURE_DRIFT,
        QualityFlagCode.THROTTLED,
        QualityFlagCode.NO_IDLE_BASELINE,
        QualityFlagCode.COUNTER_INTEGRAL_MISMATCH,  # the moved sample breaks the counter's pace
    }
    assert summary.active_energy_j is None
    throttled = next(f for f in summary.quality_flags if f.code == QualityFlagCode.THROTTLED)
    assert throttled.detail == "NVML reported throttling (sw_power_cap) in 67% of samples"  # 0x1 is idle


def test_interval_stats_match_a_hand_computed_t_interval() -> None:
    stats = interval_stats([1.0, 2.0, 3.0])
    assert stats is not None
    got: object = (stats.mean, stats.std)
    assert got == (pytest.approx(2.0), pytest.approx(1.0))
    assert stats.ci95_high == pytest.approx(2.0 + 4.303 / 3**0.5)
    assert interval_stats([1.0, None]) is None
