"""Turn raw message bytes into an event, or into a dead-letter reason."""

from __future__ import annotations

import json

from pydantic import ValidationError

from llem_ingest.errors import Undeliverable
from llem_schemas.base import SCHEMA_VERSION
from llem_schemas.events import EVENT_TYPES, AnyEvent, event_type_name, parse_event
from llem_schemas.subjects import subject_runner_id

KNOWN_TYPES = {event_type_name(m) for m in EVENT_TYPES}


def _reason(payload: bytes, exc: ValidationError) -> str:
    try:
        doc = json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError) as json_exc:
        return f"not JSON: {json_exc}"
    if not isinstance(doc, dict):
        return f"not a JSON object but {type(doc).__name__}"
    version = doc.get("schema_version")
    if isinstance(version, int) and version != SCHEMA_VERSION:
        return f"unsupported schema_version {version} (this ingest reads {SCHEMA_VERSION})"
    if doc.get("type") not in KNOWN_TYPES:
        return f"unknown event type {doc.get('type')!r}"
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors(include_url=False)[:5]
    )
    return f"invalid {doc['type']}: {problems}"


def decode(payload: bytes) -> AnyEvent:
    try:
        return parse_event(payload)
    except ValidationError as exc:
        raise Undeliverable(_reason(payload, exc)) from exc


def check_subject(subject: str, published_on: str, runner_id: str | None) -> None:
    """A message on a subject that names a runner must be a runner's event published on exactly its
    own subject: a runner's credentials allow only subjects with its id, so a payload that claims
    another runner (or another kind of event) is refused, not written. `published_on` is
    `layout.subject_for` of the decoded event."""
    named = subject_runner_id(subject)
    if named is None:
        return
    if runner_id != named:
        who = f"runner {runner_id!r}" if runner_id else "no runner"
        raise Undeliverable(f"the payload names {who} but the subject names runner {named!r}: {subject}")
    if published_on != subject:
        raise Undeliverable(f"published on {subject}, but this event belongs on {published_on}")
