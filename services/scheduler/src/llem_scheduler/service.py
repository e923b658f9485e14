"""`llem-scheduler run`: the FastStream app that follows events and advisories and sweeps liveness.

Both subscribers ack MANUALLY, after the state change is in KV and its status event has its PubAck;
an error naks the message with a delay (FastStream's default would terminate it, losing the event).
One scheduler per deployment is the design; a second one is safe (compare-and-set state, fixed
event ids) but only duplicates work.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from faststream import AckPolicy, FastStream
from faststream.nats import JStream, NatsBroker, NatsMessage, PullSub
from nats.js import JetStreamContext
from pydantic import ValidationError

from llem_control.bootstrap import bootstrap, consumer_config
from llem_control.connection import connect
from llem_control.faststream import broker_options
from llem_scheduler.settings import SchedulerSettings
from llem_scheduler.tracker import Tracker
from llem_schemas.events import parse_event

log = logging.getLogger("llem.scheduler")
RETRY_DELAY_S = 1.0


class Scheduler:
    def __init__(self, settings: SchedulerSettings) -> None:
        self.settings = settings
        self.layout = settings.layout()
        self.broker = NatsBroker(max_reconnect_attempts=-1, **broker_options(settings, name="llem-scheduler"))
        self.tracker: Tracker | None = None
        self._started = asyncio.Event()
        self._sweeper: asyncio.Task[None] | None = None
        events, advisories = self.layout.scheduler_consumers()
        for spec, handler in ((events, self.on_event), (advisories, self.on_advisory)):
            self.broker.subscriber(
                spec.filter_subject,
                stream=JStream(spec.stream, declare=False),
                durable=spec.durable_name,
                config=consumer_config(spec),
                pull_sub=PullSub(batch_size=100, timeout=5.0),
                ack_policy=AckPolicy.MANUAL,
                title=spec.durable_name,
            )(handler)

    async def _tracker(self) -> Tracker:
        await self._started.wait()  # a message may arrive before after_startup has run
        assert self.tracker is not None
        return self.tracker

    async def on_event(self, msg: NatsMessage) -> None:
        try:
            event = parse_event(msg.raw_message.data)
        except ValidationError as exc:
            # Ingest dead-letters it with the reason; for the scheduler it carries nothing to act on.
            log.error("skipping an invalid event: %s", exc.errors(include_url=False)[:2])
            await msg.ack()
            return
        try:
            await (await self._tracker()).handle(event)
        except Exception:
            log.exception("event %s not handled; retrying in %.0f s", event.event_id, RETRY_DELAY_S)
            await msg.nack(delay=RETRY_DELAY_S)
            return
        await msg.ack()

    async def on_advisory(self, msg: NatsMessage) -> None:
        try:
            advisory: dict[str, Any] = json.loads(msg.raw_message.data)
            int(advisory["stream_seq"])
        except (ValueError, KeyError, TypeError) as exc:
            log.error("skipping an unreadable advisory: %s", exc)
            await msg.ack()
            return
        try:
            await (await self._tracker()).on_max_deliveries(advisory)
        except Exception:
            log.exception("advisory not handled; retrying in %.0f s", RETRY_DELAY_S)
            await msg.nack(delay=RETRY_DELAY_S)
            return
        await msg.ack()

    async def declare(self) -> None:
        """Before the subscribers start: the streams, buckets and consumers they bind to."""
        nc = await connect(self.settings, name="llem-scheduler")
        try:
            js = nc.jetstream()
            await bootstrap(js, self.layout)
        finally:
            await nc.close()

    async def start(self) -> None:
        state = self.broker.config.connection_state
        js = state.stream
        assert isinstance(js, JetStreamContext)
        tracker = Tracker(state.connection, js, self.settings)
        await tracker.open()
        self.tracker = tracker
        self._started.set()
        self._sweeper = asyncio.create_task(self._sweep_forever(tracker))

    async def _sweep_forever(self, tracker: Tracker) -> None:
        while True:
            try:
                await tracker.sweep()
            except Exception:
                log.exception("sweep failed; trying again")
            await asyncio.sleep(self.settings.sweep_interval_s)

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper


def create_app(settings: SchedulerSettings | None = None) -> tuple[FastStream, Scheduler]:
    scheduler = Scheduler(settings or SchedulerSettings())
    app = FastStream(
        scheduler.broker,
        on_startup=[scheduler.declare],
        after_startup=[scheduler.start],
        on_shutdown=[scheduler.stop],
    )
    return app, scheduler
