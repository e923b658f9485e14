"""Events that fail validation are dead-lettered with a reason; ingest keeps going and loses nothing."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import psycopg
from nats.js import JetStreamContext

from llem.devstack import NatsServer
from llem_ingest.app import create_app
from llem_ingest.settings import IngestSettings
from llem_schemas import CampaignCancelled, RunFailed, RunnerHeartbeat, encode_event
from llem_schemas.subjects import Layout
from tests.natsauth import SeedOf


def _heartbeat(runner_id: str) -> RunnerHeartbeat:
    return RunnerHeartbeat(
        runner_id=runner_id,
        hostname="h",
        pools=["cpu"],
        started_at=datetime.now(UTC),
        heartbeat_interval_s=5,
        llem_version="0.1.0",
    )


async def test_malformed_events_are_dead_lettered_and_valid_ones_still_stored(
    seed_of: SeedOf, js: JetStreamContext, layout: Layout, nats_server: NatsServer, database_url: str
) -> None:
    valid = json.loads(encode_event(_heartbeat("good-runner")))
    bad_payloads = {
        "not JSON": b"\xff\xfe definitely not json",
        "not a JSON object": b"[1, 2, 3]",
        "unknown event type": json.dumps({**valid, "type": "runner.exploded"}).encode(),
        "unsupported schema_version 3": json.dumps({**valid, "schema_version": 3}).encode(),
        "invalid runner.heartbeat": json.dumps({**valid, "pools": "cpu"}).encode(),
    }
    subject = layout.heartbeat_subject("good-runner")
    for payload in bad_payloads.values():
        await js.publish(subject, payload, headers={"Nats-Msg-Id": str(uuid.uuid4())})
    # Valid events on a subject that names another runner, or an event no runner publishes: what a
    # runner's credentials could put on its own subjects to pass as another, refused by ingest.
    spoofed = encode_event(_heartbeat("other-runner"))
    await js.publish(subject, spoofed)
    bad_payloads["the payload names runner 'other-runner' but the subject names runner 'good-runner'"] = (
        spoofed
    )
    cancel = encode_event(CampaignCancelled(campaign_id=uuid.uuid4(), reason="not yours"))
    await js.publish(layout.run_subject("good-runner", uuid.uuid4(), uuid.uuid4(), "failed"), cancel)
    bad_payloads["the payload names no runner but the subject names runner 'good-runner'"] = cancel
    await js.publish(subject, encode_event(_heartbeat("good-runner")))
    # Valid by the schema, refused by PostgreSQL (text cannot hold NUL): isolated and dead-lettered too.
    nul = RunFailed(
        run_id=uuid.uuid4(),
        job_id=uuid.uuid4(),
        campaign_id=uuid.uuid4(),
        runner_id="good-runner",
        attempt=1,
        reason="native crash \x00 here",
        failure_kind="backend_error",
        error_type="BackendError",
        retryable=True,
    )
    await js.publish(layout.subject_for(nul), encode_event(nul))
    bad_payloads["database rejected run.failed"] = encode_event(nul)

    _, ingest = create_app(
        IngestSettings(
            nats_nkey_seed=seed_of("ingest", layout.prefix),
            nats_url=nats_server.url,
            prefix=layout.prefix,
            database_url=database_url,
            batch_timeout_s=0.1,
        )
    )
    await ingest.startup()
    await ingest.broker.start()
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while (
            loop.time() < deadline
            and ingest.counters.dead_letters + ingest.counters.events < len(bad_payloads) + 1
        ):
            await asyncio.sleep(0.05)
    finally:
        await ingest.broker.stop()
        await ingest.shutdown()

    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT reason, payload, subject FROM dead_letters ORDER BY stream_seq"
        ).fetchall()
        runners = conn.execute("SELECT runner_id FROM runners").fetchall()
    assert len(rows) == len(bad_payloads)
    for (reason, payload, row_subject), (expected, original) in zip(rows, bad_payloads.items(), strict=True):
        assert expected in reason, reason
        assert bytes(payload) == original, "the raw payload is kept as it was"
        assert row_subject.startswith(f"{layout.prefix}.events.")
    assert runners == [("good-runner",)], "a valid event behind bad ones is stored"
    assert ingest.counters.dead_letters == len(bad_payloads)

    consumer = await js.consumer_info(layout.events_stream, "ingest-events")
    assert consumer.num_pending == 0 and consumer.num_ack_pending == 0, (
        "bad events are terminated, not redelivered"
    )
