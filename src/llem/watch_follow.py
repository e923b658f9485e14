"""Where `llem campaign watch` gets its events, and the loop that folds and shows them.

Live subscriptions (core NATS) come first and buffer; then a snapshot is read (the campaign record,
the job states from the job-state KV bucket, the last progress, the stored samples of the running
runs); then buffered and live events are folded in. The reducer is order-free, so an event seen in
both the snapshot and the subscription, or in a different order, changes nothing. After a reconnect
the snapshot is read again: core NATS drops what was published while the connection was down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from uuid import UUID

import nats
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import BucketNotFoundError, NotFoundError
from pydantic import ValidationError

from llem.watch import Outcome, WatchState, outcome, reduce_all
from llem_control.campaigns import CampaignStore
from llem_control.connection import NatsSettings, connect
from llem_control.state import StateStore
from llem_schemas.events import AnyEvent, CampaignCancelled, CampaignSubmitted, parse_event
from llem_schemas.subjects import Layout

log = logging.getLogger("llem.watch")

TICK_S = 0.25  # how often the state is folded and shown (the view refreshes 4 times a second)


class WatchError(Exception):
    """The campaign cannot be watched; the message says why, for a person."""


def subjects(layout: Layout, campaign_id: UUID) -> tuple[str, ...]:
    """What the API's live campaign stream carries, and the campaign's metric batches."""
    return (*layout.campaign_live_subjects(campaign_id), *layout.campaign_metrics_subjects(campaign_id))


def parse(subject: str, payload: bytes) -> AnyEvent | None:
    """The event, or None (with a warning) for a message that is not a valid event."""
    try:
        return parse_event(payload)
    except ValidationError as exc:
        log.warning("skipped an invalid message on %s: %s", subject, exc.errors(include_url=False)[:1])
        return None


async def _stored(js: JetStreamContext, stream: str, subject: str, first: bool = False) -> list[AnyEvent]:
    """The last (or first) message stored under `subject`, parsed; none when there is none."""
    try:
        msg = await (
            js.get_msg(stream, seq=1, subject=subject, next=True)
            if first
            else js.get_last_msg(stream, subject)
        )
    except NotFoundError:
        return []
    event = parse(subject, msg.data or b"")
    return [event] if event is not None else []


async def snapshot(js: JetStreamContext, layout: Layout, campaign_id: UUID) -> list[AnyEvent]:
    """The campaign as stored now, as events the reducer folds like live ones."""
    try:
        record, _ = await CampaignStore(await js.key_value(layout.campaigns_kv.bucket)).get(campaign_id)
    except BucketNotFoundError:
        record = None  # nothing was ever submitted to this deployment
    if record is None:
        raise WatchError(f"no campaign {campaign_id} (prefix {layout.prefix})")
    events: list[AnyEvent] = [
        CampaignSubmitted(campaign_id=campaign_id, name=record.name, job_count=record.job_count)
    ]
    if record.cancelled:
        events.append(CampaignCancelled(campaign_id=campaign_id, reason=record.cancel_reason or ""))
    states = await StateStore(await js.key_value(layout.job_state_kv.bucket), 0).all()
    mine = [(s, rev) for s, rev in states.values() if s.campaign_id == campaign_id]
    events += [s.status_event(rev) for s, rev in mine]
    events += await _stored(js, layout.events_stream, layout.campaign_subject(campaign_id, "progress"))
    for state, _ in mine:
        if state.status == "running" and state.run_id is not None and state.runner_id is not None:
            metrics = layout.metrics_subject(state.runner_id, campaign_id, state.run_id)
            started = layout.run_subject(state.runner_id, campaign_id, state.run_id, "started")
            events += await _stored(js, layout.events_stream, started)
            events += await _stored(js, layout.metrics_stream, metrics, first=True)
            events += await _stored(js, layout.metrics_stream, metrics)
    return events


async def _drain(inbox: asyncio.Queue[Msg]) -> list[AnyEvent]:
    msgs = []
    with contextlib.suppress(TimeoutError):
        msgs.append(await asyncio.wait_for(inbox.get(), TICK_S))
    while not inbox.empty():
        msgs.append(inbox.get_nowait())
    return [e for m in msgs if (e := parse(m.subject, m.data)) is not None]


async def follow(
    settings: NatsSettings,
    layout: Layout,
    campaign_id: UUID,
    show: Callable[[WatchState], None],
    timeout_s: float | None = None,
    cancel_grace_s: float = 10.0,
) -> Outcome | None:
    """Follow a campaign until it ends: its outcome, or None when `timeout_s` ran out first.
    A cancelled campaign ends when the scheduler has ended its jobs, or `cancel_grace_s` later."""
    resync = asyncio.Event()

    async def reconnected() -> None:
        resync.set()  # core NATS dropped what was published while the connection was down

    # a watch may last hours: reconnect forever once connected (a first failure raises NatsUnreachable)
    nc = await connect(settings, name="llem-watch", reconnected_cb=reconnected)
    try:
        inbox: asyncio.Queue[Msg] = asyncio.Queue()

        async def on_msg(msg: Msg) -> None:
            inbox.put_nowait(msg)

        for subject in subjects(layout, campaign_id):
            await nc.subscribe(subject, cb=on_msg)
        await nc.flush()  # the server has the subscriptions before the snapshot is read
        js = nc.jetstream()
        try:
            state = reduce_all(WatchState(campaign_id), await snapshot(js, layout, campaign_id))
        except nats.errors.Error as exc:
            raise WatchError(f"cannot read campaign {campaign_id} from NATS: {exc!r}") from exc
        loop = asyncio.get_running_loop()
        deadline = None if timeout_s is None else loop.time() + timeout_s
        settle_at: float | None = None
        while True:
            if resync.is_set():
                resync.clear()
                try:
                    state = reduce_all(state, await snapshot(js, layout, campaign_id))
                except nats.errors.Error as exc:
                    log.warning("re-reading the campaign after a reconnect failed (%r); trying again", exc)
                    resync.set()
            state = reduce_all(state, await _drain(inbox))
            show(state)
            now = loop.time()
            if state.cancelled and settle_at is None:
                settle_at = now + cancel_grace_s
            result = outcome(state, settle=settle_at is not None and now >= settle_at)
            if result is not None:
                return result
            if deadline is not None and now >= deadline:
                return None
    finally:
        await nc.close()
