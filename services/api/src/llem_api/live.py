"""Live streams: NATS subjects bridged to server-sent events, one subscription per topic per process.

A topic (one run's metrics, one campaign's progress and runs, the fleet) is opened when its first
client arrives: the recent history is read from JetStream (so a client joining mid-run first gets
what it missed), then a core NATS subscription delivers live messages, fanned out to every client.
Each message gets the process's next number, kept in the topic's bounded ring; its SSE `id` is
`{epoch}-{number}`, the epoch drawn at random per process. A client that reconnects with
`Last-Event-ID` (or `?last_event_id=`, for a new EventSource, which cannot set headers) gets what it
missed while the ring still holds it; an id of another epoch (the API restarted, its numbers began
again) gets the whole ring, as does one from before its topic was closed and reopened (the replayed
history has new numbers); the client dedupes by event id and revision. Each client has a
bounded queue: a slow client loses its oldest messages (and is told how many), it never makes the
others wait or the process grow. The last client to leave closes the topic.

Why SSE and not WebSockets: the streams are one-way, SSE reconnects and resumes (`Last-Event-ID`)
by itself in every browser, and it passes proxies as plain HTTP.

The bridge uses plain nats-py core subscriptions: they are ephemeral and per topic, there is
nothing to acknowledge, and history comes from JetStream's direct reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import re
import secrets
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import msgspec
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import DeliverPolicy

from llem_api.dto import DroppedNotice

log = logging.getLogger("llem.api.live")

DROPPED = "dropped"  # the SSE event of a DroppedNotice


_EVENT_ID = re.compile(r"^(?:([0-9a-f]{8})-)?([0-9]+)$")
EVENT_ID_PATTERN = _EVENT_ID.pattern


@dataclass(frozen=True)
class EventId:
    """An SSE id: the process's epoch and the topic's item number. A bare number (an id from before
    epochs) has no epoch, so it never matches: the client gets the whole ring."""

    epoch: str | None
    n: int

    @classmethod
    def parse(cls, raw: str) -> EventId:
        """Raises ValueError on anything but `<8 hex>-<n>` or `<n>`."""
        match = _EVENT_ID.match(raw)
        if match is None:
            raise ValueError(f"not an event id of this API ({EVENT_ID_PATTERN}): {raw!r}")
        return cls(match[1], int(match[2]))


@dataclass
class Item:
    id: int
    event: str
    data: str


@dataclass(eq=False)  # identity: kept in a set
class Client:
    queue: asyncio.Queue[Item]
    dropped: int = 0

    def offer(self, item: Item) -> None:
        if self.queue.full():  # slow client: drop its oldest message, never block the topic
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(item)


@dataclass(frozen=True)
class TopicSpec:
    """What a live topic carries: subjects, the stream holding their history, and which history
    (all of it: a run's metric batches; the last per subject: job states, progress, heartbeats)."""

    key: str
    subjects: tuple[str, ...]
    stream: str
    history: DeliverPolicy = DeliverPolicy.ALL


@dataclass
class Topic:
    key: str
    ring: deque[Item]
    numbers: Iterator[int]  # the hub's: a reopened topic must not reuse the numbers of its last life
    clients: set[Client] = field(default_factory=set)
    seen: deque[str] = field(default_factory=lambda: deque(maxlen=4096))
    subs: list[Subscription] = field(default_factory=list)
    subs_ready: bool = False

    def publish(self, payload: bytes) -> None:
        try:
            doc = json.loads(payload)
        except ValueError:
            return
        event_id = str(doc.get("event_id", ""))
        if event_id and event_id in self.seen:
            return  # already delivered from the history
        if event_id:
            self.seen.append(event_id)
        item = Item(next(self.numbers), str(doc.get("type", "message")), payload.decode())
        self.ring.append(item)
        for client in self.clients:
            client.offer(item)


class Hub:
    def __init__(self, nc: NatsClient, history: int = 200, client_buffer: int = 256) -> None:
        self.nc, self.history, self.client_buffer = nc, history, client_buffer
        # Numbers rise across every topic of this process and restart with it, hence the epoch. A
        # topic closed by its last client and reopened numbers its replayed history anew, above any
        # id a client holds: that client gets the whole ring again rather than skipping any of it.
        self.epoch = secrets.token_hex(4)
        self._numbers = itertools.count(1)
        self.topics: dict[str, Topic] = {}
        self._lock = asyncio.Lock()

    async def _open(self, spec: TopicSpec) -> Topic:
        topic = Topic(spec.key, deque(maxlen=self.history), self._numbers)
        live: list[bytes] = []

        async def on_msg(msg: Msg) -> None:
            if topic.subs_ready:
                topic.publish(msg.data)
            else:
                live.append(msg.data)

        # live first (held back), then the history, then what arrived meanwhile: nothing falls
        # between the two, and a message seen in both is delivered once (event ids)
        for subject in spec.subjects:
            topic.subs.append(await self.nc.subscribe(subject, cb=on_msg))
        for payload in await self._history(spec):
            topic.publish(payload)
        for payload in live:
            topic.publish(payload)
        topic.subs_ready = True
        return topic

    async def _history(self, spec: TopicSpec) -> list[bytes]:
        """The last `history` messages of the topic's subjects from JetStream, oldest first."""
        js = self.nc.jetstream()
        found: list[tuple[int, bytes]] = []
        for subject in spec.subjects:
            try:
                info = await js.stream_info(spec.stream, subjects_filter=subject)
            except Exception as exc:
                log.warning("no history for %s: %s", subject, exc)
                continue
            if not info.state.subjects:
                continue  # nothing stored under it yet
            sub = await js.subscribe(
                subject, stream=spec.stream, ordered_consumer=True, deliver_policy=spec.history
            )
            try:
                while True:  # each message says how many are left after it
                    msg = await sub.next_msg(timeout=2)
                    found.append((msg.metadata.sequence.stream, msg.data))
                    if msg.metadata.num_pending == 0:
                        break
            except Exception as exc:
                log.warning("history of %s cut short: %s", subject, exc)
            finally:
                await sub.unsubscribe()
        found.sort(key=lambda pair: pair[0])
        return [data for _, data in found[-self.history :]]

    def event_id(self, item: Item) -> str:
        return f"{self.epoch}-{item.id}"

    async def stream(self, spec: TopicSpec, last_event_id: EventId | None = None) -> AsyncIterator[Item]:
        """Yield the topic's messages for one client: the history (or what came after
        `last_event_id` when it is of this process's epoch), then live ones; a `dropped` item says
        how many a slow client lost."""
        after = last_event_id.n if last_event_id is not None and last_event_id.epoch == self.epoch else 0
        client = Client(asyncio.Queue(maxsize=self.client_buffer))
        async with self._lock:
            topic = self.topics.get(spec.key)
            if topic is None:
                topic = self.topics[spec.key] = await self._open(spec)
            for item in topic.ring:
                if item.id > after:
                    client.offer(item)
            topic.clients.add(client)
        try:
            while True:
                item = await client.queue.get()
                if client.dropped:
                    yield Item(
                        item.id, DROPPED, msgspec.json.encode(DroppedNotice(dropped=client.dropped)).decode()
                    )
                    client.dropped = 0
                yield item
        finally:
            async with self._lock:
                topic.clients.discard(client)
                if not topic.clients:
                    for sub in topic.subs:
                        with contextlib.suppress(Exception):
                            await sub.unsubscribe()
                    self.topics.pop(spec.key, None)
