"""The live streams' SSE messages in the OpenAPI document: every event a stream carries is a
component named and shaped as its pydantic model (and the nested models as the components the other
routes already use), so the web app's generated types cannot drift from what NATS carries."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from pydantic import BaseModel

from llem_api import topics
from llem_api.app import create_app
from llem_api.cli import OPENAPI, openapi_document
from llem_api.dto import DroppedNotice
from llem_api.live import TopicSpec
from llem_api.settings import ApiSettings
from llem_schemas.base import Event
from llem_schemas.events import (
    CampaignCancelled,
    CampaignProgress,
    CampaignSubmitted,
    JobStatusChanged,
    MetricBatch,
    RunCompleted,
    RunFailed,
    RunnerHeartbeat,
    RunStarted,
    encode_event,
    event_type_name,
)
from llem_schemas.jobs import JobSpec, LlamaCppBackend
from llem_schemas.measurement import MetricSample
from llem_schemas.subjects import Layout
from tests import events

EVENTS: list[type[Event]] = [
    CampaignSubmitted,
    CampaignCancelled,
    CampaignProgress,
    JobStatusChanged,
    RunStarted,
    RunCompleted,
    RunFailed,
    MetricBatch,
    RunnerHeartbeat,
]
# what each stream's subjects carry (see llem_api.controllers.live); every stream may also say `dropped`
STREAMS: dict[str, list[type[Event]]] = {
    "/api/live/runs/{run_id}": [MetricBatch],
    "/api/live/campaigns/{campaign_id}": [
        CampaignSubmitted,
        CampaignCancelled,
        CampaignProgress,
        JobStatusChanged,
        RunStarted,
        RunCompleted,
        RunFailed,
    ],
    "/api/live/campaigns/{campaign_id}/metrics": [MetricBatch],
    "/api/live/fleet": [RunnerHeartbeat],
}
SSE = "text/event-stream"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    doc: dict[str, Any] = create_app(ApiSettings()).openapi_schema.to_schema()
    return doc


JSON = frozenset(  # any JSON value, as Litestar spells pydantic's JsonValue
    [("const", None), ("boolean", None), ("integer", None), ("number", None), ("string", None),
     ("array", "any"), ("map", "any")]
)  # fmt: skip


def _shape(schema: dict[str, Any], anys: frozenset[str] = frozenset()) -> Any:
    """A schema's type, as both pydantic and Litestar spell it: refs by name, unions as flat sets
    (`anyOf`, `oneOf`, or an enum, which Litestar gives a null value where pydantic adds a null
    branch), arrays and maps by their items, any JSON value (`anys`: the defs that allow any) as
    "any"; constraints and descriptions aside."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return "any" if name in anys else ("ref", name)
    for union in ("anyOf", "oneOf"):
        if union in schema:
            return _union(_shape(s, anys) for s in schema[union])
    if "const" in schema:
        return ("const", schema["const"])
    if "enum" in schema:
        return _union(("const", value) for value in schema["enum"])
    kind = schema.get("type")
    if kind == "null":
        return ("const", None)
    if kind == "array":
        return ("array", _shape(schema.get("items", {}), anys))
    if kind == "object" and "properties" not in schema:
        return ("map", _shape(schema.get("additionalProperties") or {}, anys))
    if kind is None:
        return "any"
    return (kind, schema.get("format"))


def _union(shapes: Iterable[Any]) -> Any:
    flat: set[Any] = set()
    for shape in shapes:
        flat |= shape[1] if shape[0] == "union" else {shape}
    if flat == JSON:
        return "any"
    return next(iter(flat)) if len(flat) == 1 else ("union", frozenset(flat))


def _same_shape(
    model: dict[str, Any], component: dict[str, Any], where: str, anys: frozenset[str] = frozenset()
) -> None:
    assert set(component["properties"]) == set(model["properties"]), where
    assert sorted(component.get("required", [])) == sorted(model.get("required", [])), where
    for name, prop in model["properties"].items():
        assert _shape(component["properties"][name]) == _shape(prop, anys), f"{where}.{name}"


@pytest.mark.parametrize("model", [*EVENTS, MetricSample], ids=lambda m: m.__name__)
def test_each_event_is_a_component_shaped_as_its_model(
    document: dict[str, Any], model: type[BaseModel]
) -> None:
    components = document["components"]["schemas"]
    produced = model.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = produced.get("$defs", {})
    anys = frozenset(name for name, schema in defs.items() if not schema)  # JsonValue: {}
    # the model and every model nested in it, each under its own name: none duplicated or renamed
    for name, schema in {model.__name__: produced, **defs}.items():
        if "properties" not in schema:
            continue  # an enum (QualityFlagCode, ...): compared where it is used
        assert name in components, f"{name} (from {model.__name__}) is not a component"
        _same_shape(schema, components[name], name, anys)


def test_the_dropped_notice_is_a_component_shaped_as_its_struct(document: dict[str, Any]) -> None:
    (ref,), defs = msgspec.json.schema_components([DroppedNotice], ref_template="#/components/schemas/{name}")
    assert ref == {"$ref": "#/components/schemas/DroppedNotice"}
    _same_shape(defs["DroppedNotice"], document["components"]["schemas"]["DroppedNotice"], "DroppedNotice")


@pytest.mark.parametrize("path", list(STREAMS))
def test_each_stream_documents_its_messages(document: dict[str, Any], path: str) -> None:
    operation = document["paths"][path]["get"]
    ok = operation["responses"]["200"]
    assert list(ok["content"]) == [SSE]
    refs = [s["$ref"].rsplit("/", 1)[-1] for s in ok["content"][SSE]["schema"]["oneOf"]]
    assert refs == [m.__name__ for m in STREAMS[path]] + ["DroppedNotice"]
    for model in STREAMS[path]:  # the description maps each SSE `event` to its `data`'s component
        assert f"`{event_type_name(model)}`: {model.__name__}" in operation["description"]
    assert "`dropped`: DroppedNotice" in operation["description"]
    assert {"400", "503"} <= set(operation["responses"]), "its problems are still documented"


def _samples() -> list[Event]:
    job = JobSpec(
        job_id=uuid.uuid4(), campaign_id=uuid.uuid4(), pool="cpu", backend=LlamaCppBackend(model_path="/m")
    )
    now = datetime.now(UTC)
    ids = {"run_id": uuid.uuid4(), "job_id": job.job_id, "campaign_id": job.campaign_id}
    return [
        CampaignSubmitted(campaign_id=job.campaign_id, name="c", job_count=1, spec={"a": [1, {"b": None}]}),
        CampaignCancelled(campaign_id=job.campaign_id, reason="stop"),
        CampaignProgress(
            campaign_id=job.campaign_id,
            status="running",
            total=2,
            queued=1,
            running=1,
            completed=0,
            failed=0,
            cancelled=0,
            live_runners=1,
        ),
        JobStatusChanged(
            job_id=job.job_id,
            campaign_id=job.campaign_id,
            pool="cpu",
            status="running",
            attempt=1,
            revision=2,
        ),
        events.started(job, 1),
        events.completed(job, 1),
        events.failed(job, 1, retryable=True),
        MetricBatch(
            **ids,
            runner_id="r1",
            attempt=1,
            seq=0,
            meter="nvml",
            samples=[MetricSample(sampled_at=now, gpu_index=0, power_w=100.0)],
        ),
        RunnerHeartbeat(
            runner_id="r1",
            hostname="h",
            pools=["cpu"],
            started_at=now,
            heartbeat_interval_s=5,
            llem_version="0",
        ),
    ]


@pytest.mark.parametrize("event", _samples(), ids=lambda e: type(e).__name__)
def test_events_as_published_are_valid_against_their_components(
    document: dict[str, Any], event: Event
) -> None:
    """What a stream's `data` holds (the JSON published on NATS) is valid against its component."""
    name = type(event).__name__
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    Draft202012Validator(schema).validate(json.loads(encode_event(event)))
    notice = msgspec.json.encode(DroppedNotice(dropped=3))
    schema["$ref"] = "#/components/schemas/DroppedNotice"
    Draft202012Validator(schema).validate(json.loads(notice))


# each stream's topic, for the campaign and run of a metric batch (every sample is of its campaign)
TOPICS: dict[str, Callable[[Layout, MetricBatch], TopicSpec]] = {
    "/api/live/runs/{run_id}": lambda layout, batch: topics.run_metrics(layout, batch.run_id),
    "/api/live/campaigns/{campaign_id}": lambda layout, batch: topics.campaign(layout, batch.campaign_id),
    "/api/live/campaigns/{campaign_id}/metrics": lambda layout, batch: topics.campaign_metrics(
        layout, batch.campaign_id
    ),
    "/api/live/fleet": lambda layout, _: topics.fleet(layout),
}


@pytest.mark.parametrize("path", list(STREAMS))
def test_each_stream_follows_the_subjects_its_events_are_published_on(path: str) -> None:
    """Its topic takes every event it documents as published (`subject_for`), from the stream
    holding it (whence the history), and no event it does not document."""
    layout, samples = Layout("t-1"), _samples()
    spec = TOPICS[path](layout, next(e for e in samples if isinstance(e, MetricBatch)))
    for event in samples:
        subject = layout.subject_for(event)
        taken = any(_matches(pattern, subject) for pattern in spec.subjects)
        assert taken == (type(event) in STREAMS[path]), (path, type(event).__name__, subject)
        if taken:
            assert spec.stream == layout.stream_for(event)


def _matches(pattern: str, subject: str) -> bool:
    p, s = pattern.split("."), subject.split(".")
    for i, token in enumerate(p):
        if token == ">":
            return len(s) > i
        if i >= len(s) or token not in ("*", s[i]):
            return False
    return len(p) == len(s)


def test_the_committed_document_is_fresh() -> None:
    assert OPENAPI.read_text() == openapi_document(), "run `llem-api openapi` (make schemas)"
