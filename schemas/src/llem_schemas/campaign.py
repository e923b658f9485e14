"""The campaign spec: what a maintainer writes once (YAML) and the scheduler expands into jobs.

Any backend, workload or measurement parameter may be given as a list: the campaign is the
cartesian product of every list (the grid), times the models, the backends and the repetitions.
The grid models are derived from the job models (llem_schemas.jobs): a parameter declared
there is a grid dimension here, unless it is named below as taken as is or not in a campaign.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, TypeAlias, TypeVar, Union, get_args, get_origin

from pydantic import Field, JsonValue, create_model, model_validator
from pydantic.fields import FieldInfo

from llem_schemas.base import Model
from llem_schemas.jobs import LlamaCppBackend, OpenAICompatibleBackend, PoolName, VllmBackend, Workload

T = TypeVar("T")
OneOrMany: TypeAlias = Union[T, Annotated[list[T], Field(min_length=1)]]  # noqa: UP007 (generic alias)
"""A grid dimension: one value, or a non-empty list of values to sweep."""
_ONE_OR_MANY: Any = OneOrMany  # subscripted with types known at runtime only


class PoolSpec(Model):
    name: PoolName
    gpu: bool = Field(default=True, description="Whether the pool's runners have GPUs (vLLM needs one).")


class ModelSpec(Model):
    name: str = Field(min_length=1, max_length=200, description="Display name on the leaderboard.")
    gguf: OneOrMany[str] | None = Field(
        default=None, description="GGUF file(s) for llama_cpp; several files = a quantisation sweep."
    )
    model_id: str | None = Field(default=None, description="Model id for vllm and openai backends.")
    context_limit: int | None = Field(default=None, ge=16, description="The model's maximum context, tokens.")

    @model_validator(mode="after")
    def _something_to_run(self) -> ModelSpec:
        if self.gguf is None and self.model_id is None:
            raise ValueError("a model needs `gguf` (llama_cpp) or `model_id` (vllm, openai)")
        return self


class Grid(Model):
    """A job model's parameters as a campaign writes them (see `_grid_of`)."""

    #: The fields that are grid dimensions; the others are taken as they are.
    dimensions: ClassVar[frozenset[str]] = frozenset()


G = TypeVar("G", bound=Grid)


def _dimension(annotation: Any) -> Any:
    """`T` as `T | list[T]`, `T | None` as `T | list[T] | None`. Bounds are left to the job: a value
    is checked when a job is built from it, so a combination pruned away never fails the spec."""
    members = get_args(annotation) if get_origin(annotation) in (Union, types.UnionType) else (annotation,)
    values = tuple(m for m in members if m is not types.NoneType)
    if any(get_origin(v) in (list, tuple, dict) for v in values):
        raise TypeError(f"{annotation} holds several values: name it in `fixed`, a dimension is one value")
    value = values[0] if len(values) == 1 else Union[values]  # noqa: UP007 (built at runtime)
    grid = _ONE_OR_MANY[value]
    return grid | None if len(values) < len(members) else grid


def _grid_of(
    job: type[Model], *, fixed: tuple[str, ...] = (), omit: tuple[str, ...] = ()
) -> Callable[[type[G]], type[G]]:
    """Class decorator: the grid model of `job`, each of its fields a dimension with the job's
    default, except `fixed` ones (taken as is, validated as the job does) and `omit`ted ones
    (not in a campaign file: the expansion sets them, or the job's default holds)."""

    def derive(cls: type[G]) -> type[G]:
        fields: dict[str, Any] = {}
        for name, field in job.model_fields.items():
            if name in omit:
                continue
            if name not in fixed:
                annotation = _dimension(field.annotation)
            elif field.metadata:
                annotation = Annotated[(field.annotation, *field.metadata)]
            else:
                annotation = field.annotation
            fields[name] = (annotation, _default_of(field))
        grid = create_model(cls.__name__, __base__=cls, __module__=cls.__module__, **fields)
        grid.dimensions = frozenset(fields) - set(fixed)
        return grid

    return derive


def _default_of(field: FieldInfo) -> Any:
    if field.default_factory is not None:
        return Field(default_factory=field.default_factory)
    return Field(default=field.default)


@_grid_of(LlamaCppBackend, fixed=("kind",), omit=("model_path", "seed"))
class LlamaCppGrid(Grid):
    pass


@_grid_of(OpenAICompatibleBackend, fixed=("kind", "base_url", "api_key_env"), omit=("model",))
class OpenAIGrid(Grid):
    pass


@_grid_of(
    VllmBackend,
    fixed=("kind", "mode", "extra_args"),
    omit=("model", "seed", "port", "startup_timeout_s"),
)
class VllmGrid(Grid):
    pass


BackendGrid = Annotated[LlamaCppGrid | OpenAIGrid | VllmGrid, Field(discriminator="kind")]


@_grid_of(Workload, omit=("seed",))
class WorkloadGrid(Grid):
    pass


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
