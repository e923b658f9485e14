"""Idempotent writes of events into PostgreSQL/TimescaleDB. Callers own the transaction.

Each event goes through its writer in the `writers` table; metric samples, the bulk of the data,
are written here, many batches at a time (binary COPY).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any, NamedTuple
from uuid import UUID

import psycopg
from psycopg import AsyncConnection

from llem_ingest.writers import WRITERS, entry
from llem_schemas.events import AnyEvent, MetricBatch


class SampleBatch(NamedTuple):
    """A metric batch reduced to what the samples table needs (from the fast decoder or a model)."""

    run_id: UUID
    seq: int
    meter: str
    samples: list[dict[str, Any]]

    @classmethod
    def of(cls, event: MetricBatch) -> SampleBatch:
        return cls(event.run_id, event.seq, event.meter, [s.model_dump() for s in event.samples])

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> SampleBatch:
        return cls(doc["run_id"], doc["seq"], doc["meter"], doc["samples"])


# (column, PostgreSQL type for binary COPY); every MetricSample field has its column.
_SAMPLE_FIELDS = (
    ("sampled_at", "timestamptz"),
    ("gpu_index", "int2"),
    ("power_w", "float8"),
    ("power_avg_w", "float8"),
    ("energy_counter_j", "float8"),
    ("temperature_c", "float8"),
    ("gpu_utilization_pct", "float8"),
    ("memory_used_bytes", "int8"),
    ("sm_clock_mhz", "float8"),
    ("memory_clock_mhz", "float8"),
    ("throttle_reasons", "int8"),
    ("cpu_package_energy_counter_j", "float8"),
    ("dram_energy_counter_j", "float8"),
    ("requests_completed_total", "int8"),
    ("prompt_tokens_total", "int8"),
    ("output_tokens_total", "int8"),
)
_SAMPLE_COLUMNS = ("run_id", "meter", *(name for name, _ in _SAMPLE_FIELDS))
_SAMPLE_TYPES = ("uuid", "text", *(kind for _, kind in _SAMPLE_FIELDS))
_FIELD_NAMES = tuple(name for name, _ in _SAMPLE_FIELDS)
_COLUMNS = ", ".join(_SAMPLE_COLUMNS)
# Binary COPY into a per-connection staging table (emptied at each commit), then one set-based
# INSERT that skips rows already stored: idempotent on the natural key (run, GPU, instant).
_STAGING = (
    "CREATE TEMP TABLE IF NOT EXISTS staging_samples"
    " (LIKE metric_samples INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
)
_MERGE = (
    f"INSERT INTO metric_samples ({_COLUMNS}) SELECT {_COLUMNS} FROM staging_samples ON CONFLICT DO NOTHING"
)


_ALL_FIELDS = operator.itemgetter(*_FIELD_NAMES)


def _fields(sample: dict[str, Any]) -> tuple[object, ...]:
    try:
        return _ALL_FIELDS(sample)  # type: ignore[no-any-return]
    except KeyError:  # a field left out (the fast decoder fills no defaults): null
        return tuple(sample.get(n) for n in _FIELD_NAMES)


def sample_rows(batches: Sequence[SampleBatch]) -> list[tuple[object, ...]]:
    return [(b.run_id, b.meter, *_fields(s)) for b in batches for s in b.samples]


async def copy_rows(conn: AsyncConnection, table: str, rows: Sequence[tuple[object, ...]]) -> None:
    """Binary COPY of sample rows into `table` (the staging table, or the hypertable for the benchmark)."""
    statement = f"COPY {table} ({_COLUMNS}) FROM STDIN (FORMAT BINARY)"
    async with conn.cursor() as cur, cur.copy(statement) as copy:
        copy.set_types(list(_SAMPLE_TYPES))
        for row in rows:
            await copy.write_row(row)


_NEW_BATCHES = (
    "INSERT INTO metric_batches (run_id, seq, samples)"
    " SELECT * FROM unnest(%s::uuid[], %s::integer[], %s::integer[])"
    " ON CONFLICT DO NOTHING RETURNING run_id, seq"
)


async def write_samples(conn: AsyncConnection, batches: Sequence[SampleBatch]) -> int:
    """Store the samples of batches not stored before; returns the number of new samples.

    A batch (run_id, seq) is the runner's unit of publication and its samples are fixed by it, so
    its key decides: new batches go straight into the hypertable by binary COPY, known ones are
    skipped. Should a new batch still repeat a stored sample (a runner bug), the COPY fails on the
    hypertable's unique key and those batches go through the staging table and a merge instead.
    """
    unique = list({(b.run_id, b.seq): b for b in batches}.values())
    if not unique:
        return 0
    async with conn.cursor() as cur:
        await cur.execute(
            _NEW_BATCHES,
            ([b.run_id for b in unique], [b.seq for b in unique], [len(b.samples) for b in unique]),
        )
        new = {(row[0], row[1]) for row in await cur.fetchall()}
    rows = sample_rows([b for b in unique if (b.run_id, b.seq) in new])
    if not rows:
        return 0
    try:
        async with conn.transaction():  # a savepoint: a refused COPY leaves the batch usable
            await copy_rows(conn, "metric_samples", rows)
    except psycopg.errors.UniqueViolation:
        await conn.execute(_STAGING)
        await copy_rows(conn, "staging_samples", rows)
        await conn.execute(_MERGE)
    return len(rows)


async def _write_metric_batch(conn: AsyncConnection, event: MetricBatch) -> None:
    await write_samples(conn, [SampleBatch.of(event)])


_WRITERS = WRITERS | dict([entry(MetricBatch, _write_metric_batch)])


async def write_events(conn: AsyncConnection, events: Sequence[AnyEvent]) -> None:
    """Each event through its writer, in order; an event type without one stores nothing."""
    for event in events:
        writer = _WRITERS.get(type(event))
        if writer is not None:
            await writer(conn, event)


async def dead_letter(
    conn: AsyncConnection, stream: str, subject: str, seq: int, payload: bytes, reason: str
) -> None:
    await conn.execute(
        "INSERT INTO dead_letters (stream, subject, stream_seq, payload, reason) VALUES (%s, %s, %s, %s, %s)"
        " ON CONFLICT (stream, stream_seq) DO NOTHING",
        (stream, subject, seq, payload, reason),
    )
