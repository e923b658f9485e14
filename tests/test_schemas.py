"""The event contract: strict shapes, stable subjects, documents in sync with the code."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from llem_schemas import (
    EVENT_TYPES,
    Event,
    JobQueued,
    JobSpec,
    Layout,
    LlamaCppBackend,
    MetricBatch,
    MetricSample,
    RunnerHeartbeat,
    docs,
    encode_event,
    parse_event,
)

CID, JID, RID = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def _job() -> JobQueued:
    return JobQueued(
        job=JobSpec(job_id=JID, campaign_id=CID, pool="cpu", backend=LlamaCppBackend(model_path="/m.gguf"))
    )


def _batch(**overrides: object) -> MetricBatch:
    fields: dict[str, object] = {
        "run_id": RID,
        "job_id": JID,
        "campaign_id": CID,
        "runner_id": "r1",
        "attempt": 1,
        "seq": 0,
        "meter": "none",
        "samples": [MetricSample(sampled_at=datetime.now(UTC), output_tokens_total=3)],
    }
    return MetricBatch.model_validate({**fields, **overrides})


def test_round_trip_keeps_every_field() -> None:
    for event in (_job(), _batch()):
        assert parse_event(encode_event(event)) == event


def test_events_are_frozen() -> None:
    event = _job()
    with pytest.raises(ValidationError):
        event.event_id = uuid.uuid4()  # type: ignore[misc]


def test_unknown_fields_are_rejected() -> None:
    doc = json.loads(encode_event(_job()))
    doc["surprise"] = 1
    with pytest.raises(ValidationError, match="surprise"):
        parse_event(json.dumps(doc))


def test_future_schema_version_is_rejected() -> None:
    doc = json.loads(encode_event(_job()))
    doc["schema_version"] = 3
    with pytest.raises(ValidationError, match="schema_version"):
        parse_event(json.dumps(doc))


def test_naive_timestamps_are_rejected_and_aware_ones_become_utc() -> None:
    with pytest.raises(ValidationError):
        MetricSample(sampled_at=datetime(2026, 1, 1))
    cet = timezone(timedelta(hours=1))
    sample = MetricSample(sampled_at=datetime(2026, 1, 1, 12, tzinfo=cet))
    assert sample.sampled_at.utcoffset() == timedelta(0)
    assert sample.sampled_at.hour == 11


def test_metric_batch_needs_at_least_one_sample() -> None:
    with pytest.raises(ValidationError, match="samples"):
        _batch(samples=[])


def test_pool_and_runner_ids_must_be_subject_tokens() -> None:
    with pytest.raises(ValidationError, match="pool"):
        JobSpec(job_id=JID, campaign_id=CID, pool="a.b", backend=LlamaCppBackend(model_path="/m"))
    with pytest.raises(ValidationError, match="runner_id"):
        _batch(runner_id="bad id")


def test_subjects_follow_the_layout() -> None:
    layout = Layout("llem")
    assert layout.subject_for(_job()) == f"llem.events.job.{CID}.{JID}.queued"
    assert layout.subject_for(_batch()) == f"llem.metrics.r1.{CID}.{RID}"
    hb = RunnerHeartbeat(
        runner_id="r1",
        hostname="h",
        pools=["cpu"],
        started_at=datetime.now(UTC),
        heartbeat_interval_s=5,
        llem_version="0",
    )
    assert layout.subject_for(hb) == "llem.events.runner.r1.heartbeat"
    assert layout.job_subject("cpu", "c1") == "llem.jobs.cpu.c1"
    assert layout.pool_consumer("cpu").filter_subject == "llem.jobs.cpu.*"
    names = {s.name for s in layout.streams()}
    assert names == {"LLEM_JOBS", "LLEM_EVENTS", "LLEM_METRICS", "LLEM_ADVISORIES"}


def test_bad_prefix_is_refused() -> None:
    with pytest.raises(ValueError, match="prefix"):
        Layout("Has.Dots")


def test_generated_documents_are_up_to_date() -> None:
    assert docs.stale() == [], "run `uv run llem-schemas docs` and commit schemas/dist"


def test_asyncapi_document_covers_every_event_and_resolves_refs() -> None:
    doc = docs.asyncapi()
    assert doc["asyncapi"] == "3.0.0"
    messages = doc["components"]["messages"]
    # every event type has a channel (a new event without one fails here)
    assert {m["name"] for m in messages.values()} == {t.model_fields["type"].default for t in EVENT_TYPES}

    def refs(node: object) -> list[str]:
        if isinstance(node, dict):
            return [v for k, v in node.items() if k == "$ref"] + [r for v in node.values() for r in refs(v)]
        if isinstance(node, list):
            return [r for v in node for r in refs(v)]
        return []

    for ref in refs(doc):
        target: object = doc
        for part in ref.removeprefix("#/").split("/"):
            assert isinstance(target, dict) and part in target, f"dangling $ref {ref}"
            target = target[part]


@pytest.mark.parametrize("event", [_job(), _batch()], ids=lambda e: e.type)
def test_published_json_schemas_accept_real_events_and_reject_bad_ones(
    event: JobQueued | MetricBatch,
) -> None:
    """An analyst validating with schemas/dist alone (no Python models) gets the same answers."""
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

    schema = json.loads((docs.DIST_DIR / "jsonschema" / f"{event.type}.json").read_text())
    union = json.loads((docs.DIST_DIR / "jsonschema" / "event.json").read_text())
    doc = json.loads(encode_event(event))
    for s in (schema, union):
        Draft202012Validator.check_schema(s)
        Draft202012Validator(s).validate(doc)
        assert not Draft202012Validator(s).is_valid({**doc, "surprise": 1})
        assert not Draft202012Validator(s).is_valid({**doc, "schema_version": 3})


def test_asyncapi_document_is_valid_asyncapi_3() -> None:
    """Validated against the AsyncAPI 3.0.0 specification's own JSON Schema (vendored, offline)."""
    import yaml
    from jsonschema import Draft7Validator

    spec_schema = json.loads((Path(__file__).parent / "data" / "asyncapi-3.0.0.schema.json").read_text())
    document = yaml.safe_load((docs.DIST_DIR / "asyncapi.yaml").read_text())
    errors = [
        f"{list(e.absolute_path)}: {e.message[:200]}"
        for e in Draft7Validator(spec_schema).iter_errors(document)
    ]
    assert errors == []


def test_every_event_subject_is_stored_by_the_stream_named_for_it() -> None:
    """A publisher names the stream (JetStream refuses a mismatch): the two must agree for every type."""
    layout = Layout("llem")
    streams = {s.name: s.subjects for s in layout.streams()}
    for model in EVENT_TYPES:
        if model.__name__ == "JobCancelRequested":
            continue  # core NATS control message, never stored
        example = _examples()[model.__name__]
        subject, stream = layout.subject_for(example), layout.stream_for(example)
        patterns = streams[stream]
        assert any(_matches(p, subject) for p in patterns), (model.__name__, subject, stream)


def test_every_event_travels_on_a_documented_channel_of_its_stream() -> None:
    """The AsyncAPI channels come from Layout.channels(): each event's real subject fits the address
    of a channel that lists its type, and that channel names the stream its publisher uses."""
    layout = Layout("llem")
    channels = layout.channels()
    assert {m for ch in channels for m in ch.messages} == set(EVENT_TYPES)
    for name, example in _examples().items():
        subject = layout.subject_for(example)
        fits = [
            ch
            for ch in channels
            if type(example) in ch.messages and _matches(re.sub(r"\{\w+\}", "*", ch.address), subject)
        ]
        assert len(fits) == 1, (name, subject)
        stored = None if name == "JobCancelRequested" else layout.stream_for(example)
        assert fits[0].stream == stored, name


def _matches(pattern: str, subject: str) -> bool:
    p, s = pattern.split("."), subject.split(".")
    for i, token in enumerate(p):
        if token == ">":
            return len(s) > i
        if i >= len(s) or (token != "*" and token != s[i]):
            return False
    return len(p) == len(s)


def _examples() -> dict[str, Event]:
    from llem_schemas import (
        CampaignCancelled,
        CampaignProgress,
        CampaignSubmitted,
        JobStatusChanged,
        RequestBatch,
        RequestRecord,
    )
    from tests import events

    job = _job().job
    ids = {"run_id": RID, "job_id": JID, "campaign_id": CID, "runner_id": "r1", "attempt": 1}
    record = RequestRecord(repetition=0, index=0, started_at=datetime.now(UTC), output_tokens=1, e2e_ms=1.0)
    found: list[Event] = [
        _job(),
        _batch(),
        CampaignSubmitted(campaign_id=CID, name="c", job_count=1),
        CampaignCancelled(campaign_id=CID),
        CampaignProgress(
            campaign_id=CID,
            status="queued",
            total=1,
            queued=1,
            running=0,
            completed=0,
            failed=0,
            cancelled=0,
            live_runners=0,
        ),
        JobStatusChanged(job_id=JID, campaign_id=CID, pool="cpu", status="queued", attempt=0, revision=1),
        RequestBatch(**ids, seq=0, requests=[record]),
        events.started(job, 1),
        events.completed(job, 1),
        events.failed(job, 1, retryable=False),
        RunnerHeartbeat(
            runner_id="r1",
            hostname="h",
            pools=["cpu"],
            started_at=datetime.now(UTC),
            heartbeat_interval_s=1,
            llem_version="0",
        ),
    ]
    return {type(e).__name__: e for e in found}
