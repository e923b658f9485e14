"""Measured quantities: host fingerprint, metric samples, run summaries and quality flags."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from llem_schemas.base import Model, UtcDatetime

MeterName = Literal["nvml", "rapl", "none"]


class IntervalStats(Model):
    """A metric over repetitions: mean, sample standard deviation and a 95% confidence interval
    (Student's t). Null where there are fewer than two repetitions."""

    n: int = Field(ge=1)
    mean: float | None
    std: float | None
    ci95_low: float | None
    ci95_high: float | None


class GpuInfo(Model):
    index: int = Field(ge=0, description="Index as the runner sees it (after CUDA_VISIBLE_DEVICES).")
    name: str
    uuid: str
    memory_total_bytes: int | None = Field(default=None, ge=0)
    power_limit_w: float | None = Field(default=None, ge=0)
    mig_enabled: bool | None = None


class HostFingerprint(Model):
    """What the run ran on, enough to compare runs and to reproduce them."""

    hostname: str
    os: str = Field(description="Operating system and release, for instance 'Linux 6.1.0'.")
    python_version: str
    cpu_model: str | None = None
    cpu_count: int | None = Field(default=None, ge=1)
    memory_total_bytes: int | None = Field(default=None, ge=0)
    gpus: list[GpuInfo] = Field(default_factory=list)
    gpu_driver_version: str | None = None
    cuda_driver_version: str | None = None
    nvml_version: str | None = None
    backend: str = Field(description="Inference backend kind, for instance 'llama_cpp'.")
    backend_version: str | None = None
    model: str | None = Field(default=None, description="Model path or id as the job named it.")
    model_sha256: str | None = Field(
        default=None, description="SHA-256 of the model file, when it is a local file."
    )
    llem_version: str


class MetricSample(Model):
    """One reading. Every measured value is null when it could not be measured."""

    sampled_at: UtcDatetime
    gpu_index: int | None = Field(
        default=None, ge=0, description="GPU index; null for host-level samples (no device)."
    )
    power_w: float | None = Field(default=None, ge=0, description="Instantaneous board power.")
    power_avg_w: float | None = Field(default=None, ge=0, description="Driver-averaged board power.")
    energy_counter_j: float | None = Field(
        default=None, ge=0, description="Cumulative energy counter reading (NVML total energy), joules."
    )
    temperature_c: float | None = None
    gpu_utilization_pct: float | None = Field(default=None, ge=0, le=100)
    memory_used_bytes: int | None = Field(default=None, ge=0)
    sm_clock_mhz: float | None = Field(default=None, ge=0)
    memory_clock_mhz: float | None = Field(default=None, ge=0)
    throttle_reasons: int | None = Field(
        default=None, ge=0, description="NVML clocks-event (throttle) reason bitmask; 0 = none."
    )
    cpu_package_energy_counter_j: float | None = Field(
        default=None, ge=0, description="RAPL package energy, all sockets, unwrapped cumulative joules."
    )
    dram_energy_counter_j: float | None = Field(
        default=None, ge=0, description="RAPL DRAM energy, all sockets, unwrapped cumulative joules."
    )
    requests_completed_total: int | None = Field(default=None, ge=0)
    prompt_tokens_total: int | None = Field(default=None, ge=0, description="Cumulative in this run.")
    output_tokens_total: int | None = Field(default=None, ge=0, description="Cumulative in this run.")


class QualityFlagCode(StrEnum):
    NO_ENERGY_METER = "no_energy_meter"
    SHORT_WINDOW = "short_window"
    SAMPLE_GAP = "sample_gap"
    COUNTER_INTEGRAL_MISMATCH = "counter_integral_mismatch"
    TEMPERATURE_DRIFT = "temperature_drift"
    THROTTLED = "throttled"
    FAILED_REQUESTS = "failed_requests"
    NO_STEADY_STATE = "no_steady_state"
    NO_IDLE_BASELINE = "no_idle_baseline"


class QualityFlag(Model):
    code: QualityFlagCode
    detail: str = Field(description="Human-readable reason, with the numbers that raised it.")
    value: float | None = Field(default=None, description="The measured value behind the flag, if any.")


class Measurement(Model):
    """How the energy numbers of a run were measured."""

    meter: MeterName
    sampling_period_ms: int | None = Field(default=None, ge=1)
    achieved_sampling_hz: float | None = Field(
        default=None, ge=0, description="Distinct sample instants / window."
    )
    energy_source: Literal["counter", "integrated_power"] | None = Field(
        default=None, description="Where energy_j came from; null when no energy was measured."
    )
    window_start: UtcDatetime
    window_end: UtcDatetime
    samples: int = Field(ge=0, description="Samples taken in the window.")
    warmup_requests: int = Field(ge=0)
    idle_power_w: float | None = Field(default=None, ge=0, description="Idle baseline, all GPUs together.")
    idle_baseline_measured_at: UtcDatetime | None = None
    idle_baseline_s: float | None = Field(default=None, ge=0)
    power_limit_w: float | None = Field(
        default=None, ge=0, description="Per-GPU power limit the run set; null: limits were left as found."
    )


class LatencyStats(Model):
    mean_ms: float | None = None
    p50_ms: float | None = None
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None


class GpuEnergy(Model):
    gpu_index: int = Field(ge=0)
    energy_j: float | None = Field(default=None, ge=0)
    source: Literal["counter", "integrated_power"] | None = None


class SteadyState(Model):
    """From the moment the configured concurrency is reached until the queue starts draining."""

    window_start: UtcDatetime
    window_end: UtcDatetime
    duration_s: float = Field(ge=0)
    output_tokens: int = Field(ge=0, description="Tokens generated inside the window (from token counters).")
    output_tokens_per_s: float | None = Field(default=None, ge=0)
    energy_j: float | None = Field(default=None, ge=0)
    energy_per_output_token_j: float | None = Field(default=None, ge=0)
    avg_power_w: float | None = Field(default=None, ge=0)


class RepetitionResult(Model):
    """One measured repetition; a run with repetitions=1 has exactly one."""

    repetition: int = Field(ge=0)
    window_start: UtcDatetime
    window_end: UtcDatetime
    duration_s: float = Field(ge=0)
    requests: int = Field(ge=0)
    output_tokens: int = Field(ge=0)
    output_tokens_per_s: float | None = Field(default=None, ge=0)
    energy_j: float | None = Field(default=None, ge=0)
    active_energy_j: float | None = None
    energy_per_output_token_j: float | None = Field(default=None, ge=0)


class RunSummary(Model):
    """Results of one run: every repetition pooled, plus each repetition and their spread."""

    duration_s: float = Field(ge=0)
    requests_total: int = Field(ge=0)
    requests_failed: int = Field(ge=0)
    prompt_tokens: int | None = Field(ge=0, description="Null when the backend does not report it.")
    output_tokens: int = Field(ge=0)
    output_tokens_per_s: float | None = Field(default=None, ge=0)
    requests_per_s: float | None = Field(default=None, ge=0)
    energy_j: float | None = Field(default=None, ge=0, description="Total energy over the window, all GPUs.")
    active_energy_j: float | None = Field(
        default=None, description="energy_j minus idle baseline power x duration; may be < 0 within noise."
    )
    energy_per_gpu: list[GpuEnergy] = Field(default_factory=list)
    energy_per_output_token_j: float | None = Field(default=None, ge=0)
    energy_per_request_j: float | None = Field(
        default=None,
        ge=0,
        description="Mean over requests of the energy attributed to each request over its lifetime "
        "(power split equally among the requests in flight at each instant).",
    )
    cpu_energy_j: float | None = Field(default=None, ge=0, description="RAPL package + DRAM, when measured.")
    avg_power_w: float | None = Field(default=None, ge=0)
    peak_power_w: float | None = Field(default=None, ge=0)
    ttft_ms: LatencyStats = Field(default_factory=LatencyStats)
    itl_ms: LatencyStats = Field(default_factory=LatencyStats)
    e2e_ms: LatencyStats = Field(default_factory=LatencyStats)
    steady_state: SteadyState | None = None
    repetitions: list[RepetitionResult] = Field(default_factory=list)
    repetition_stats: dict[str, IntervalStats] = Field(
        default_factory=dict,
        description="Spread over repetitions of energy_j, energy_per_output_token_j and output_tokens_per_s.",
    )
    measurement: Measurement
    quality_flags: list[QualityFlag] = Field(default_factory=list)
