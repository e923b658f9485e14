"""The campaign spec: what a maintainer writes once (YAML) and the scheduler expands into jobs.

Any backend, workload or measurement parameter may be given as a list: the campaign is the
cartesian product of every list (the grid), times the models, the backends and the repetitions.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, JsonValue, model_validator

from llem_schemas.base import Model
from llem_schemas.jobs import PoolName

Many = Annotated[list[int], Field(min_length=1)]
IntGrid = int | Many
FloatGrid = float | Annotated[list[float], Field(min_length=1)]
StrGrid = str | Annotated[list[str], Field(min_length=1)]
BoolGrid = bool | Annotated[list[bool], Field(min_length=1)]


class PoolSpec(Model):
    name: PoolName
    gpu: bool = Field(default=True, description="Whether the pool's runners have GPUs (vLLM needs one).")


class ModelSpec(Model):
    name: str = Field(min_length=1, max_length=200, description="Display name on the leaderboard.")
    gguf: StrGrid | None = Field(
        default=None, description="GGUF file(s) for llama_cpp; several files = a quantisation sweep."
    )
    model_id: str | None = Field(default=None, description="Model id for vllm and openai backends.")
    context_limit: int | None = Field(default=None, ge=16, description="The model's maximum context, tokens.")

    @model_validator(mode="after")
    def _something_to_run(self) -> ModelSpec:
        if self.gguf is None and self.model_id is None:
            raise ValueError("a model needs `gguf` (llama_cpp) or `model_id` (vllm, openai)")
        return self


class LlamaCppGrid(Model):
    kind: Literal["llama_cpp"] = "llama_cpp"
    n_ctx: IntGrid = 2048
    n_threads: IntGrid | None = None
    n_gpu_layers: IntGrid = 0


class OpenAIGrid(Model):
    kind: Literal["openai"] = "openai"
    base_url: str = Field(min_length=1)
    api_key_env: str | None = None


class VllmGrid(Model):
    kind: Literal["vllm"] = "vllm"
    mode: Literal["offline", "serve"] = "serve"
    tensor_parallel_size: IntGrid = 1
    dtype: StrGrid = "auto"
    quantization: StrGrid | None = None
    max_model_len: IntGrid | None = None
    gpu_memory_utilization: FloatGrid = 0.9
    max_num_seqs: IntGrid | None = None
    extra_args: list[str] = Field(default_factory=list)


BackendGrid = Annotated[LlamaCppGrid | OpenAIGrid | VllmGrid, Field(discriminator="kind")]


class WorkloadGrid(Model):
    prompt_set: StrGrid = "builtin:short"
    num_requests: IntGrid = 8
    max_output_tokens: IntGrid = 32
    concurrency: IntGrid = 1
    arrival: Literal["all_at_once", "poisson"] | list[Literal["all_at_once", "poisson"]] = "all_at_once"
    request_rate_per_s: FloatGrid | None = None
    ignore_eos: BoolGrid = False


class CampaignSpec(Model):
    """A campaign file. Ids are derived from its content: the same file submitted twice is one campaign."""

    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    seed: int = Field(default=0, ge=0, description="Seeds the job order and every workload.")
    priority: int = Field(default=0, ge=0, le=9)
    pools: list[PoolSpec] = Field(min_length=1)
    models: list[ModelSpec] = Field(min_length=1)
    backends: list[BackendGrid] = Field(min_length=1)
    workload: WorkloadGrid = Field(default_factory=WorkloadGrid)
    protocol: dict[str, JsonValue] = Field(
        default_factory=dict,
        description="MeasurementProtocol overrides; a list value is a grid dimension.",
    )
    repetitions: int = Field(default=1, ge=1, le=100, description="Jobs per configuration.")
    pin_repetitions: bool = Field(
        default=False, description="Run all repetitions of a configuration on the same host (A/B pairing)."
    )

    @model_validator(mode="after")
    def _unique_names(self) -> CampaignSpec:
        for what, names in (
            ("pools", [p.name for p in self.pools]),
            ("models", [m.name for m in self.models]),
        ):
            if len(set(names)) != len(names):
                raise ValueError(f"{what} names must be unique, got {names}")
        return self
