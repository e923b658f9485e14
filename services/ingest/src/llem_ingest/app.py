"""The ingest FastStream app: batch pull consumers on the events and metrics streams.

Ack policy is MANUAL: a batch is acked (`ack_sync`) only after its transaction commits. The pull
handler only queues a fetched batch (bounded: `pipeline_depth`); `writers` tasks decode and write
them, so the next fetch and the decoding overlap with the database's commit. If the database is
unreachable a batch is nak'ed with a delay (bounded backoff) and nothing is lost. Counters go to a
Prometheus endpoint (`LLEM_METRICS_PORT`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Annotated

import psycopg
from faststream import AckPolicy, Context, FastStream
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.message import NatsBatchMessage
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from llem_control.bootstrap import consumer_config
from llem_control.connection import connect
from llem_control.faststream import broker_options
from llem_ingest import metrics
from llem_ingest.consume import Counters, process_batch
from llem_ingest.migrate import migrate
from llem_ingest.retention import RetentionJob
from llem_ingest.settings import IngestSettings
from llem_schemas.subjects import Layout

log = logging.getLogger("llem.ingest")
MAX_BACKOFF_S = 10.0


class Ingest:
    def __init__(self, settings: IngestSettings) -> None:
        self.settings = settings
        self.layout = Layout(settings.prefix)
        self.counters = Counters()
        self.pool = AsyncConnectionPool(
            settings.database_url, open=False, min_size=1, max_size=settings.writers + 2
        )
        self.broker = NatsBroker(max_reconnect_attempts=-1, **broker_options(settings, name="llem-ingest"))
        self.queue: asyncio.Queue[tuple[list[Msg], bool]] = asyncio.Queue(maxsize=settings.pipeline_depth)
        self._failures = 0
        self._tasks: list[asyncio.Task[None]] = []
        self.retention = RetentionJob(self.pool, settings.retention_days, settings.retention_interval_s)
        for spec in self.layout.ingest_consumers():
            config = consumer_config(spec)
            fast = spec.stream == self.layout.metrics_stream
            handler = self.on_metrics if fast else self.on_events
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
            )(handler)

    async def on_events(self, msg: Annotated[NatsBatchMessage, Context("message")]) -> None:
        await self.queue.put((list(msg.raw_message), False))

    async def on_metrics(self, msg: Annotated[NatsBatchMessage, Context("message")]) -> None:
        await self.queue.put((list(msg.raw_message), True))

    async def _writer(self) -> None:
        while True:
            msgs, fast = await self.queue.get()
            try:
                await self._write(msgs, fast)
            finally:
                self.queue.task_done()

    async def _write(self, msgs: list[Msg], fast: bool) -> None:
        started = time.perf_counter()
        try:
            await process_batch(self.pool, self.layout, msgs, self.counters, fast_metrics=fast)
            self._failures = 0
        except (psycopg.OperationalError, PoolTimeout) as exc:
            self._failures += 1
            backoff_s = min(MAX_BACKOFF_S, 0.25 * 2**self._failures)
            log.warning("database unavailable (%s); batch nak'ed, retry in %.1f s", exc, backoff_s)
            metrics.DB_ERRORS.inc()
            await asyncio.gather(*(m.nak(delay=backoff_s) for m in msgs), return_exceptions=True)
            await asyncio.sleep(backoff_s)
            return
        except Exception:
            log.exception("batch failed; nak'ed for redelivery")
            await asyncio.gather(*(m.nak(delay=1.0) for m in msgs), return_exceptions=True)
            return
        metrics.observe_batch(msgs, time.perf_counter() - started, time.time())

    async def _lag(self) -> None:
        """Consumer lag (messages not yet delivered + delivered but unacked), every few seconds."""
        while True:
            await asyncio.sleep(5)
            for spec in self.layout.ingest_consumers():
                with contextlib.suppress(Exception):  # not connected yet, or the server is away
                    js = self.broker.config.connection_state.stream
                    assert isinstance(js, JetStreamContext)
                    info = await js.consumer_info(spec.stream, spec.durable_name)
                    metrics.LAG.labels(spec.durable_name).set(info.num_pending + info.num_ack_pending)

    async def startup(self) -> None:
        await asyncio.to_thread(migrate, self.settings.database_url)
        await (await connect(self.settings, name="llem-ingest")).close()  # one clear line if unreachable
        await self.pool.open()
        if self.settings.metrics_port:
            metrics.serve(self.settings.metrics_port)
        self._tasks = [asyncio.create_task(self._writer()) for _ in range(self.settings.writers)]
        self._tasks += [asyncio.create_task(self._lag()), asyncio.create_task(self.retention.run())]

    async def drain(self) -> None:
        """Before the broker closes: let the queued batches commit and ack (bounded)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.queue.join(), timeout=20)

    async def shutdown(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.pool.close()


def create_app(settings: IngestSettings | None = None) -> tuple[FastStream, Ingest]:
    ingest = Ingest(settings or IngestSettings())
    app = FastStream(
        ingest.broker,
        on_startup=[ingest.startup],
        on_shutdown=[ingest.drain],
        after_shutdown=[ingest.shutdown],
    )
    return app, ingest
