"""Measured quantities: host fingerprint, metric samples, run summaries and quality flags."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from llem_schemas.base import Model, UtcDatetime

MeterName = Literal["nvml", "rapl", "none"]


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


class QualityFlag(Model):
    code: QualityFlagCode
    detail: str = Field(description="Human-readable reason, with the numbers that raised it.")
    value: float | None = Field(default=None, description="The measured value behind the flag, if any.")


class Measurement(Model):
    """How the energy numbers of a run were measured."""

    meter: MeterName
    sampling_period_ms: int | None = Field(default=None, ge=1)
    energy_source: Literal["counter", "integrated_power"] | None = Field(
        default=None, description="Where energy_j came from; null when no energy was measured."
    )
    window_start: UtcDatetime
    window_end: UtcDatetime
    samples: int = Field(ge=0, description="Samples taken in the window.")
    warmup_requests: int = Field(ge=0)


class LatencyStats(Model):
    mean_ms: float | None = None
    p50_ms: float | None = None
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None


class RunSummary(Model):
    """Results of one run (one repetition of one configuration)."""

    duration_s: float = Field(ge=0)
    requests_total: int = Field(ge=0)
    requests_failed: int = Field(ge=0)
    prompt_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)
    output_tokens_per_s: float | None = Field(default=None, ge=0)
    requests_per_s: float | None = Field(default=None, ge=0)
    energy_j: float | None = Field(default=None, ge=0, description="Total energy over the window, all GPUs.")
    energy_per_output_token_j: float | None = Field(default=None, ge=0)
    energy_per_request_j: float | None = Field(default=None, ge=0)
    avg_power_w: float | None = Field(default=None, ge=0)
    peak_power_w: float | None = Field(default=None, ge=0)
    ttft_ms: LatencyStats = Field(default_factory=LatencyStats)
    itl_ms: LatencyStats = Field(default_factory=LatencyStats)
    e2e_ms: LatencyStats = Field(default_factory=LatencyStats)
    measurement: Measurement
    quality_flags: list[QualityFlag] = Field(default_factory=list)
