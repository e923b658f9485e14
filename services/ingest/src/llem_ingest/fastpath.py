"""A lean decoder for `metric.batch`, ingest's hot path.

The same fields, types and constraints as the pydantic models (derived from their field info at
import, so the two cannot drift), validated into plain dicts: about twice as fast as building model
instances. A payload it refuses goes through the full decoder, which either accepts it (another
event type) or gives the dead-letter reason.
"""

from __future__ import annotations

from typing import Annotated, Any, NotRequired, Required

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict

from llem_schemas.events import MetricBatch
from llem_schemas.measurement import MetricSample


def _typed_dict(model: type[BaseModel], replace: dict[str, Any] | None = None) -> Any:
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        annotation = (replace or {}).get(name, info.annotation)
        if info.metadata:
            annotation = Annotated[(annotation, *info.metadata)]
        fields[name] = Required[annotation] if info.is_required() else NotRequired[annotation]
    typed = TypedDict(f"{model.__name__}Dict", fields)  # type: ignore[misc]
    return with_config(ConfigDict(extra="forbid"))(typed)


SampleDict = _typed_dict(MetricSample)
BatchDict = _typed_dict(MetricBatch, {"samples": list[SampleDict]})  # type: ignore[valid-type]
_ADAPTER: TypeAdapter[dict[str, Any]] = TypeAdapter(BatchDict)


def decode_metric_batch(payload: bytes) -> dict[str, Any] | None:
    """The batch as validated dicts, or None when it is not a valid metric.batch."""
    try:
        return _ADAPTER.validate_json(payload)
    except ValidationError:
        return None
