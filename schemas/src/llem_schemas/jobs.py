"""What a job asks a runner to do: backend, workload and measurement protocol."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, model_validator

from llem_schemas.base import Model

#: Names used inside NATS subjects (pools, runner ids) must be single subject tokens.
SUBJECT_TOKEN = r"^[A-Za-z0-9_-]{1,64}$"  # noqa: S105 (a regex, not a secret)
PoolName = Annotated[str, Field(pattern=SUBJECT_TOKEN, description="Runner pool, one NATS subject token.")]


class LlamaCppBackend(Model):
    """In-process llama-cpp-python on a GGUF file."""

    kind: Literal["llama_cpp"] = "llama_cpp"
    model_path: str = Field(min_length=1, description="Path of the GGUF file on the runner host.")
    n_ctx: int = Field(default=2048, ge=16, description="Context size in tokens.")
    n_threads: int | None = Field(default=None, ge=1, description="CPU threads; null lets llama.cpp choose.")
    n_gpu_layers: int = Field(default=0, ge=-1, description="Layers offloaded to the GPU; -1 offloads all.")
    seed: int = Field(default=0, ge=0)


class OpenAICompatibleBackend(Model):
    """Any OpenAI-compatible HTTP server (vLLM, llama.cpp server, TGI, SGLang)."""

    kind: Literal["openai"] = "openai"
    base_url: str = Field(min_length=1, description="Base URL, for instance http://127.0.0.1:8000/v1.")
    model: str = Field(min_length=1, description="Model name the server expects.")
    api_key_env: str | None = Field(
        default=None, description="Name of the environment variable on the runner that holds the API key."
    )


class VllmBackend(Model):
    """vLLM, in-process (`offline`: LLM.generate over the batch) or as a managed `vllm serve` subprocess
    driven through the OpenAI-compatible client (`serve`). Needs the `llem-runner[vllm]` extra."""

    kind: Literal["vllm"] = "vllm"
    model: str = Field(min_length=1, description="Model id or local path.")
    mode: Literal["offline", "serve"] = "serve"
    tensor_parallel_size: int = Field(default=1, ge=1)
    dtype: Literal["auto", "float16", "bfloat16", "float32"] = "auto"
    quantization: str | None = None
    max_model_len: int | None = Field(default=None, ge=16)
    gpu_memory_utilization: float = Field(default=0.9, gt=0, le=1)
    max_num_seqs: int | None = Field(default=None, ge=1, description="vLLM's batch size limit.")
    seed: int = Field(default=0, ge=0)
    port: int | None = Field(default=None, ge=1, le=65535, description="serve mode; null picks a free port.")
    startup_timeout_s: float = Field(default=900, gt=0)
    extra_args: list[str] = Field(default_factory=list, description="More `vllm serve` arguments, as given.")


BackendConfig = Annotated[
    LlamaCppBackend | OpenAICompatibleBackend | VllmBackend, Field(discriminator="kind")
]


class Workload(Model):
    """The load put on the backend."""

    prompt_set: str = Field(default="builtin:short", description="Prompt set name or a JSONL path.")
    num_requests: int = Field(default=8, ge=1, le=1_000_000)
    max_output_tokens: int = Field(default=32, ge=1)
    concurrency: int = Field(default=1, ge=1, description="Maximum requests in flight (batch size offline).")
    arrival: Literal["all_at_once", "poisson"] = Field(
        default="all_at_once",
        description="all_at_once: every request is ready at t=0 (limited by concurrency); "
        "poisson: exponential inter-arrival times at request_rate_per_s, seeded.",
    )
    request_rate_per_s: float | None = Field(default=None, gt=0, description="Poisson arrival rate.")
    ignore_eos: bool = Field(default=False, description="Decode max_output_tokens regardless of EOS.")
    seed: int = Field(default=0, ge=0, description="Seeds arrivals and prompt order.")

    @model_validator(mode="after")
    def _rate_for_poisson(self) -> Workload:
        if self.arrival == "poisson" and self.request_rate_per_s is None:
            raise ValueError("arrival 'poisson' needs request_rate_per_s")
        return self


class MeasurementProtocol(Model):
    """How the run is measured. Everything here is recorded with the result."""

    meter: Literal["auto", "nvml", "rapl", "none"] = Field(
        default="auto",
        description="Energy meter; auto picks NVML when a GPU is visible, else RAPL when readable, else none.",
    )
    sampling_period_ms: int = Field(default=100, ge=10, le=10_000)
    warmup_requests: int = Field(default=1, ge=0, description="Requests run before measuring, not counted.")
    idle_baseline_s: float = Field(
        default=5.0,
        ge=0,
        description="Idle power measured this long before the run; 0 disables the baseline.",
    )
    idle_baseline_max_age_s: float = Field(
        default=900, ge=0, description="A host's idle baseline is reused for this long."
    )
    repetitions: int = Field(default=1, ge=1, le=100, description="Measured repetitions within this run.")
    power_limit_w: float | None = Field(
        default=None,
        gt=0,
        description="Set every GPU of the run to this power limit (W) after the idle baseline and restore"
        " it afterwards; needs NVML and a runner allowed to change limits. Null: leave limits as they are.",
    )
    cooldown_s: float = Field(default=0.0, ge=0, description="Pause between repetitions.")
    temperature_drift_c: float = Field(
        default=10.0, gt=0, description="Flag a run whose GPU temperature moved more than this in the window."
    )
    metric_batch_max_samples: int = Field(
        default=50, ge=1, le=10_000, description="Samples per metric-batch event at most."
    )
    metric_batch_max_interval_ms: int = Field(
        default=1000, ge=50, description="A metric batch is sent at least this often while samples accrue."
    )


class JobSpec(Model):
    """One unit of work: a configuration and repetition of a campaign, run on one pool."""

    job_id: UUID = Field(description="Id derived from the job's content, stable across resubmits.")
    campaign_id: UUID
    pool: PoolName
    repetition: int = Field(default=0, ge=0)
    config_id: UUID | None = Field(
        default=None, description="The configuration this job repeats: equal for all its repetitions."
    )
    model_name: str | None = Field(default=None, description="The campaign's display name of the model.")
    backend: BackendConfig
    workload: Workload = Field(default_factory=Workload)
    protocol: MeasurementProtocol = Field(default_factory=MeasurementProtocol)
