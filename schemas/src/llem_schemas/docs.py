"""Documents for outside subscribers: JSON Schema per event and one AsyncAPI 3 document.

`llem-schemas docs` writes them to schemas/dist; `llem-schemas docs --check` fails when the
files on disk differ from what the code generates (CI runs it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter
from pydantic.json_schema import models_json_schema

from llem_schemas.base import SCHEMA_VERSION
from llem_schemas.campaign import CampaignSpec
from llem_schemas.events import EVENT_TYPES, AnyEvent, event_type_name
from llem_schemas.subjects import ChannelSpec, Layout

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
DIST_DIR = Path(__file__).resolve().parents[2] / "dist"
_NOT_STORED = "none (core NATS, not persisted)"


def _channels(layout: Layout) -> tuple[ChannelSpec, ...]:
    """The layout's channels, refusing an event type that travels on none (its subscribers
    would find no subject for it)."""
    channels = layout.channels()
    unrouted = [m.__name__ for m in EVENT_TYPES if not any(m in ch.messages for ch in channels)]
    if unrouted:
        raise ValueError(f"no channel in Layout.channels() carries {', '.join(unrouted)}")
    return channels


def json_schemas() -> dict[str, dict[str, Any]]:
    """One standalone JSON Schema per event type, `event` for the discriminated union, and
    `campaign-spec` for campaign files (editors can validate YAML against it)."""
    out: dict[str, dict[str, Any]] = {}
    for model in EVENT_TYPES:
        schema = model.model_json_schema(mode="validation")
        name = event_type_name(model)
        out[name] = {"$schema": JSON_SCHEMA_DIALECT, "$id": f"{name}.json", **schema}
    union = TypeAdapter(AnyEvent).json_schema(mode="validation")
    out["event"] = {"$schema": JSON_SCHEMA_DIALECT, "$id": "event.json", "title": "AnyEvent", **union}
    campaign = CampaignSpec.model_json_schema(mode="validation")
    out["campaign-spec"] = {"$schema": JSON_SCHEMA_DIALECT, "$id": "campaign-spec.json", **campaign}
    return out


def _asyncapi_schema(node: Any) -> Any:
    """AsyncAPI's schema dialect names the discriminator property with a string, not OpenAPI's object."""
    if isinstance(node, dict):
        out = {k: _asyncapi_schema(v) for k, v in node.items()}
        if isinstance(out.get("discriminator"), dict):
            out["discriminator"] = out["discriminator"]["propertyName"]
        return out
    if isinstance(node, list):
        return [_asyncapi_schema(v) for v in node]
    return node


def asyncapi(layout: Layout | None = None) -> dict[str, Any]:
    layout = layout or Layout()
    _, top = models_json_schema(
        [(m, "validation") for m in EVENT_TYPES], ref_template="#/components/schemas/{model}"
    )
    schemas: dict[str, Any] = _asyncapi_schema(dict(top.get("$defs", {})))
    messages: dict[str, Any] = {}
    for model in EVENT_TYPES:
        messages[model.__name__] = {
            "name": event_type_name(model),
            "title": model.__name__,
            "summary": (model.__doc__ or model.__name__).strip().splitlines()[0],
            "contentType": "application/json",
            "headers": {
                "type": "object",
                "properties": {
                    "Nats-Msg-Id": {
                        "type": "string",
                        "format": "uuid",
                        "description": "Equals the payload's event_id; JetStream de-duplicates on it.",
                    },
                },
            },
            "payload": {"$ref": f"#/components/schemas/{model.__name__}"},
        }
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for ch in _channels(layout):
        channels[ch.key] = {
            "address": ch.address,
            "description": f"{ch.description} JetStream stream: {ch.stream or _NOT_STORED}.",
            "parameters": {name: {"description": desc} for name, desc in ch.parameters.items()},
            "messages": {m.__name__: {"$ref": f"#/components/messages/{m.__name__}"} for m in ch.messages},
        }
        operations[f"receive_{ch.key}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{ch.key}"},
            "summary": f"Subscribe to {ch.address}",
            "messages": [{"$ref": f"#/channels/{ch.key}/messages/{m.__name__}"} for m in ch.messages],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "llem event stream",
            "version": f"{SCHEMA_VERSION}.0.0",
            "description": (
                "Events published by llem services on NATS JetStream. Every message is JSON, carries a "
                "unique event_id (also its Nats-Msg-Id header) and a schema_version; consumers should "
                "de-duplicate on event_id. Subjects start with a deployment prefix, 'llem' by default. "
                f"Streams: {layout.jobs_stream} (work queue), {layout.events_stream} and "
                f"{layout.metrics_stream} (limits, discard=new)."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "localhost:4222",
                "protocol": "nats",
                "description": "Local stack (llem stack up).",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def render() -> dict[str, str]:
    """Relative path -> file content, for every generated document."""
    files = {
        f"jsonschema/{name}.json": json.dumps(schema, indent=2, sort_keys=True) + "\n"
        for name, schema in json_schemas().items()
    }
    files["asyncapi.yaml"] = yaml.safe_dump(asyncapi(), sort_keys=False, width=100, allow_unicode=True)
    return files


def write(dist: Path = DIST_DIR) -> list[Path]:
    written = []
    for rel, content in render().items():
        path = dist / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        written.append(path)
    return written


def stale(dist: Path = DIST_DIR) -> list[str]:
    """Relative paths whose content on disk differs from the generated one (or that are extra)."""
    expected = render()
    problems = [
        rel
        for rel, content in expected.items()
        if not (dist / rel).is_file() or (dist / rel).read_text() != content
    ]
    if dist.is_dir():
        on_disk = {p.relative_to(dist).as_posix() for p in dist.rglob("*") if p.is_file()}
        problems += sorted(on_disk - expected.keys())
    return problems
