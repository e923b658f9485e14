"""One batch of raw JetStream messages -> one transaction -> acks after commit.

Valid events are written idempotently; undeliverable ones go to the dead-letter table in the same
transaction and are then terminated (never redelivered). Nothing is acked before the commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from nats.aio.msg import Msg
from psycopg_pool import AsyncConnectionPool

from llem_ingest import metrics
from llem_ingest.decode import check_subject, decode
from llem_ingest.errors import Undeliverable
from llem_ingest.fastpath import decode_metric_batch
from llem_ingest.store import SampleBatch, dead_letter, write_events, write_samples
from llem_schemas.events import AnyEvent, MetricBatch
from llem_schemas.subjects import Layout

Decoded = AnyEvent | SampleBatch

log = logging.getLogger("llem.ingest")


@dataclass
class Counters:
    events: int = 0
    samples: int = 0
    dead_letters: int = 0
    batches: int = 0


def _decode(msg: Msg, layout: Layout, fast_metrics: bool) -> Decoded:
    if fast_metrics and (doc := decode_metric_batch(msg.data)) is not None:
        on = layout.metrics_subject(doc["runner_id"], doc["campaign_id"], doc["run_id"])
        check_subject(msg.subject, on, doc["runner_id"])
        return SampleBatch.from_dict(doc)
    event = decode(msg.data)  # any other event, or Undeliverable with the reason
    check_subject(msg.subject, layout.subject_for(event), getattr(event, "runner_id", None))
    return event


async def _write(
    pool: AsyncConnectionPool, good: Sequence[tuple[Msg, Decoded]], bad: Sequence[tuple[Msg, str]]
) -> int:
    """One transaction for the whole batch; returns the number of new samples written."""
    batches = [
        e if isinstance(e, SampleBatch) else SampleBatch.of(e)
        for _, e in good
        if isinstance(e, SampleBatch | MetricBatch)
    ]
    others = [e for _, e in good if not isinstance(e, SampleBatch | MetricBatch)]
    async with pool.connection() as conn, conn.transaction():
        samples = await write_samples(conn, batches) if batches else 0
        await write_events(conn, others)
        for msg, reason in bad:
            meta = msg.metadata
            await dead_letter(conn, meta.stream, msg.subject, meta.sequence.stream, msg.data, reason)
    return samples


async def _write_isolating_rejects(
    pool: AsyncConnectionPool, good: Sequence[tuple[Msg, Decoded]], bad: list[tuple[Msg, str]]
) -> tuple[list[tuple[Msg, Decoded]], int]:
    """The database refused the batch: write event by event and dead-letter the ones it refuses."""
    stored: list[tuple[Msg, Decoded]] = []
    samples = 0
    for msg, event in good:
        try:
            samples += await _write(pool, [(msg, event)], [])
            stored.append((msg, event))
        except psycopg.OperationalError:
            raise
        except psycopg.DatabaseError as exc:
            kind = "metric.batch" if isinstance(event, SampleBatch) else event.type
            bad.append((msg, f"database rejected {kind}: {type(exc).__name__}: {exc}"))
    await _write(pool, [], bad)
    return stored, samples


async def process_batch(
    pool: AsyncConnectionPool,
    layout: Layout,
    msgs: Sequence[Msg],
    counters: Counters,
    fast_metrics: bool = False,
) -> None:
    """`fast_metrics`: the messages come from the metrics stream; try the lean decoder first."""
    good: list[tuple[Msg, Decoded]] = []
    bad: list[tuple[Msg, str]] = []
    for msg in msgs:
        try:
            good.append((msg, _decode(msg, layout, fast_metrics)))
        except Undeliverable as exc:
            bad.append((msg, str(exc)))
    try:
        samples = await _write(pool, good, bad)
    except psycopg.OperationalError:
        raise  # the database is away: the caller backs off, nothing is acked
    except psycopg.DatabaseError as exc:
        log.warning("batch refused by the database (%s); isolating the offending events", exc)
        good, samples = await _write_isolating_rejects(pool, good, bad)
    # Committed: now, and only now, tell JetStream.
    await asyncio.gather(*(m.ack_sync() for m, _ in good), *(m.term() for m, _ in bad))
    for _, reason in bad:
        log.warning("dead-lettered a message: %s", reason)
    counters.events += len(good)
    counters.samples += samples
    counters.dead_letters += len(bad)
    counters.batches += 1
    if good:
        metrics.EVENTS.labels(good[0][0].metadata.stream).inc(len(good))
    metrics.SAMPLES.inc(samples)
    metrics.DEAD_LETTERS.inc(len(bad))
