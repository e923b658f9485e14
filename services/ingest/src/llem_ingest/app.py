"""The ingest FastStream app: batch pull consumers on the events and metrics streams.

Ack policy is MANUAL: `process_batch` acks after commit. If the database is unreachable the batch
is nak'ed with a delay (bounded backoff) and nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

import psycopg
from faststream import AckPolicy, Context, FastStream
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.message import NatsBatchMessage
from faststream.nats.security import NatsCredentials
from nats.js.api import ConsumerConfig
from psycopg_pool import AsyncConnectionPool

from llem_ingest.consume import Counters, process_batch
from llem_ingest.migrate import migrate
from llem_ingest.settings import IngestSettings
from llem_schemas.subjects import Layout

log = logging.getLogger("llem.ingest")
MAX_BACKOFF_S = 10.0


class Ingest:
    def __init__(self, settings: IngestSettings) -> None:
        self.settings = settings
        self.layout = Layout(settings.prefix)
        self.counters = Counters()
        self.pool = AsyncConnectionPool(settings.database_url, open=False, min_size=1, max_size=4)
        security = NatsCredentials.from_file(settings.nats_creds) if settings.nats_creds else None
        self.broker = NatsBroker(settings.nats_url, max_reconnect_attempts=-1, security=security)
        self._failures = 0
        for spec in self.layout.ingest_consumers():
            config = ConsumerConfig(**spec.config_kwargs())  # type: ignore[arg-type]
            self.broker.subscriber(
                spec.filter_subject,
                stream=JStream(spec.stream, declare=False),
                durable=spec.durable_name,
                config=config,
                pull_sub=PullSub(
                    batch_size=settings.batch_size, timeout=settings.batch_timeout_s, batch=True
                ),
                ack_policy=AckPolicy.MANUAL,
                title=spec.durable_name,
            )(self.on_batch)

    async def on_batch(self, msg: Annotated[NatsBatchMessage, Context("message")]) -> None:
        try:
            await process_batch(self.pool, msg.raw_message, self.counters)
            self._failures = 0
        except psycopg.OperationalError as exc:
            self._failures += 1
            backoff_s = min(MAX_BACKOFF_S, 0.25 * 2**self._failures)
            log.warning("database unavailable (%s); batch nak'ed, retry in %.1f s", exc, backoff_s)
            await msg.nack(delay=backoff_s)
            await asyncio.sleep(backoff_s)

    async def startup(self) -> None:
        await asyncio.to_thread(migrate, self.settings.database_url)
        await self.pool.open()

    async def shutdown(self) -> None:
        await self.pool.close()


def create_app(settings: IngestSettings | None = None) -> tuple[FastStream, Ingest]:
    ingest = Ingest(settings or IngestSettings())
    app = FastStream(ingest.broker, on_startup=[ingest.startup], after_shutdown=[ingest.shutdown])
    return app, ingest
