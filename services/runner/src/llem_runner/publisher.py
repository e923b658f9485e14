"""Durable event publishing for the runner.

Every event carries its event_id as Nats-Msg-Id and counts as sent only with a PubAck. Metric
batches that cannot be sent (NATS unreachable) go to the local spool and are replayed, in order,
as soon as NATS answers again; lifecycle events are retried until they are stored, because the job
is acknowledged only after its completion event is.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from llem_runner.spool import Spool, SpooledMessage
from llem_schemas.base import Event
from llem_schemas.subjects import Layout

log = logging.getLogger("llem.runner.publisher")
RawPublish = Callable[[bytes, str, str, str], Awaitable[object]]  # payload, subject, stream, msg_id


class EventPublisher:
    def __init__(self, layout: Layout, raw_publish: RawPublish, spool: Spool, timeout_s: float = 2.0) -> None:
        self.layout, self.raw_publish, self.spool, self.timeout_s = layout, raw_publish, spool, timeout_s
        self._flush_lock = asyncio.Lock()

    def _message(self, event: Event) -> SpooledMessage:
        stream = self.layout.stream_for(event)
        return SpooledMessage(
            self.layout.subject_for(event), stream, str(event.event_id), event.model_dump_json().encode()
        )

    async def _send(self, m: SpooledMessage) -> None:
        await asyncio.wait_for(self.raw_publish(m.payload, m.subject, m.stream, m.msg_id), self.timeout_s * 2)

    async def flush_spool(self) -> int:
        """Replay spooled messages in order; stops at the first failure. Returns how many were sent."""
        async with self._flush_lock:
            pending = self.spool.read()
            sent = 0
            try:
                for m in pending:
                    await self._send(m)
                    sent += 1
            except Exception as exc:
                log.info("spool replay paused after %d of %d: %s", sent, len(pending), exc)
            if sent:
                self.spool.remove_first(sent)
                log.info("replayed %d spooled message(s)", sent)
            return sent

    async def publish(self, event: Event) -> None:
        message = self._message(event)
        if event.type == "metric.batch":  # type: ignore[attr-defined]
            if len(self.spool) == 0 or (await self.flush_spool() and len(self.spool) == 0):
                try:
                    await self._send(message)
                    return
                except Exception as exc:
                    log.warning("metric batch %s spooled: %s", message.msg_id, exc)
            self.spool.append(message)
            return
        await self.publish_until_stored(message)

    async def publish_until_stored(self, message: SpooledMessage, max_backoff_s: float = 5.0) -> None:
        backoff = 0.25
        while True:
            try:
                await self.flush_spool()
                await self._send(message)
                return
            except Exception as exc:
                log.warning("event %s not stored yet (%s); retrying in %.1f s", message.msg_id, exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(max_backoff_s, backoff * 2)
