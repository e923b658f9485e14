"""The real servers the project starts: TimescaleDB loaded, JetStream layout declared as specified."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy

import llem_ingest
from llem_control.bootstrap import bootstrap
from llem_ingest.migrate import migrate
from llem_schemas.subjects import Layout


def test_timescaledb_is_loaded_and_metric_samples_is_a_hypertable(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        version = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
        assert version is not None
        hypertables = {
            r[0] for r in conn.execute("SELECT hypertable_name FROM timescaledb_information.hypertables")
        }
        assert "metric_samples" in hypertables
        license_ = conn.execute("SELECT current_setting('timescaledb.license', true)").fetchone()
        assert license_ is not None
        assert license_[0] in {"apache", "timescale"}


def test_migrations_are_idempotent(database_url: str) -> None:
    assert migrate(database_url) == []
    with psycopg.connect(database_url) as conn:
        shipped = len(list((Path(llem_ingest.__file__).parent / "migrations").glob("*.sql")))
        assert shipped >= 3
        assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone() == (shipped,)


async def test_streams_match_the_layout(js: JetStreamContext, layout: Layout) -> None:
    jobs = await js.stream_info(layout.jobs_stream)
    assert jobs.config.retention == RetentionPolicy.WORK_QUEUE
    for name in (layout.events_stream, layout.metrics_stream):
        info = await js.stream_info(name)
        assert info.config.retention == RetentionPolicy.LIMITS
        assert info.config.discard == DiscardPolicy.NEW
        assert info.config.duplicate_window
        assert info.config.duplicate_window > 0
    consumer = await js.consumer_info(layout.jobs_stream, "pool-cpu")
    assert consumer.config.max_deliver == layout.pool_consumer("cpu").max_deliver


async def test_bootstrap_is_idempotent(js: JetStreamContext, layout: Layout) -> None:
    await bootstrap(js, layout, ["cpu"])
    await bootstrap(js, layout, ["cpu", "gpu"])
    names = {s.config.name for s in await js.streams_info()}
    assert {s.name for s in layout.streams()} <= names


async def test_nats_msg_id_deduplicates(js: JetStreamContext, layout: Layout) -> None:
    msg_id = str(uuid.uuid4())
    subject = layout.heartbeat_subject("r1")
    first = await js.publish(subject, b"{}", headers={"Nats-Msg-Id": msg_id})
    second = await js.publish(subject, b"{}", headers={"Nats-Msg-Id": msg_id})
    assert not first.duplicate
    assert second.duplicate
    assert (await js.stream_info(layout.events_stream)).state.messages == 1


async def test_subjects_outside_the_layout_are_not_captured(js: JetStreamContext, layout: Layout) -> None:
    from nats.js.errors import NoStreamResponseError

    with pytest.raises(NoStreamResponseError):
        await js.publish(f"{layout.prefix}.elsewhere.x", b"{}")


async def test_bootstrap_updates_an_existing_buckets_ttl(js: JetStreamContext, layout: Layout) -> None:
    """Changing the runner TTL of a running deployment: the bucket is updated, not refused."""
    await bootstrap(js, Layout(layout.prefix, runner_ttl_s=7))
    info = await js.stream_info(f"KV_{layout.runners_kv.bucket}")
    assert info.config.max_age == 7
