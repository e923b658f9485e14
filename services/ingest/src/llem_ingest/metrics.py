"""Ingest's operational counters, for Prometheus (`LLEM_METRICS_PORT`, path /metrics).

events and rows per second are `rate()` of the counters; batch latency is the commit time of a
batch; delay is from the message's JetStream timestamp (when the stream stored it) to the commit;
lag is the durable consumer's pending + unacked messages.
"""

from __future__ import annotations

from datetime import UTC, datetime

from nats.aio.msg import Msg
from prometheus_client import Counter, Gauge, Histogram, start_http_server

EVENTS = Counter("llem_ingest_events", "Events stored (acked after commit).", ["stream"])
SAMPLES = Counter("llem_ingest_samples", "Metric samples newly written to the hypertable.")
DEAD_LETTERS = Counter(
    "llem_ingest_dead_letters", "Messages dead-lettered (stored with a reason, then terminated)."
)
DB_ERRORS = Counter(
    "llem_ingest_database_unavailable", "Batches nak'ed because the database was unreachable."
)
BATCH_SECONDS = Histogram(
    "llem_ingest_batch_seconds",
    "Decode + write + commit + ack time of one batch.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DELAY_SECONDS = Histogram(
    "llem_ingest_delay_seconds",
    "From the message's JetStream timestamp to its commit.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10, 30, 60),
)
LAG = Gauge("llem_ingest_consumer_lag", "Messages pending or unacked on the durable consumer.", ["consumer"])


def observe_batch(msgs: list[Msg], seconds: float, committed_at: float) -> None:
    BATCH_SECONDS.observe(seconds)
    for msg in msgs:
        stored = msg.metadata.timestamp
        if isinstance(stored, datetime):
            DELAY_SECONDS.observe(
                max(0.0, committed_at - stored.replace(tzinfo=stored.tzinfo or UTC).timestamp())
            )


def serve(port: int) -> None:
    start_http_server(port, addr="127.0.0.1")
