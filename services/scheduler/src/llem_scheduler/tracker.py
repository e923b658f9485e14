"""The tracker: follows lifecycle events and advisories, keeps every job's state, acts on it.

Durable state lives in NATS KV (job states, campaign records); the tracker keeps an in-memory copy
for sweeps and progress, rebuilt from KV at start-up. Every change is a compare-and-set in KV first,
then its public `job.status` event (id fixed by the KV revision, so a repeat after a crash is
dropped by the stream's duplicate window), and only then is the triggering message acked.

What it decides on its own:
- a job whose deliveries ran out (the server's MaxDeliver advisory) ends failed, its message removed;
- unfinished jobs of a pool with no live runner for `no_runner_timeout_s` end failed, their queue purged;
- a running job whose runner's heartbeat expired goes back to queued (JetStream redelivers it when
  its ack wait runs out);
- a cancelled campaign's queued jobs are purged, running ones are told to stop, and any run that
  still starts for it is told to stop too.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from llem_control.campaigns import CampaignRecord, CampaignStore
from llem_control.progress import campaign_progress
from llem_control.publish import publish_event
from llem_control.registry import live_runners
from llem_control.state import JobState, StateStore, transition, verdict
from llem_control.submit import purge_campaign_queues
from llem_scheduler.settings import SchedulerSettings
from llem_schemas.events import (
    AnyEvent,
    CampaignCancelled,
    CampaignSubmitted,
    JobCancelRequested,
    JobQueued,
    RunCompleted,
    RunFailed,
    RunnerHeartbeat,
    RunStarted,
    parse_event,
)

log = logging.getLogger("llem.scheduler.tracker")


def _now() -> datetime:
    return datetime.now(UTC)


def record_from_submitted(event: CampaignSubmitted) -> CampaignRecord:
    pools = event.spec.get("pools")
    names = (
        [p["name"] for p in pools if isinstance(p, dict) and isinstance(p.get("name"), str)]
        if isinstance(pools, list)
        else []
    )
    return CampaignRecord(
        campaign_id=event.campaign_id,
        name=event.name,
        pools=names or ["default"],
        job_count=event.job_count,
        submitted_at=event.occurred_at,
    )


class Tracker:
    def __init__(
        self,
        nc: NatsClient,
        js: JetStreamContext,
        settings: SchedulerSettings,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.nc, self.js, self.settings, self.clock = nc, js, settings, clock
        self.layout = settings.layout()
        self.max_attempts = settings.job_max_deliver
        self.jobs: dict[UUID, tuple[JobState, int]] = {}
        self.by_campaign: dict[UUID, set[UUID]] = defaultdict(set)
        self.campaigns: dict[UUID, CampaignRecord] = {}
        self.published_progress: dict[UUID, UUID] = {}
        self.dirty: set[UUID] = set()
        self.started = time.monotonic()
        self.pool_seen: dict[str, float] = {}
        self.live: list[RunnerHeartbeat] = []
        self.ready = asyncio.Event()

    async def open(self) -> None:
        """Load job states and campaign records from KV (the state survives restarts there)."""
        self.store = StateStore(await self.js.key_value(self.layout.job_state_kv.bucket), self.max_attempts)
        self.campaign_store = CampaignStore(await self.js.key_value(self.layout.campaigns_kv.bucket))
        for state, revision in (await self.store.all()).values():
            self._remember(state, revision)
        for record in await self.campaign_store.all():
            self.campaigns[record.campaign_id] = record
        self.dirty.update(self.campaigns)
        log.info("tracker loaded %d job(s) of %d campaign(s)", len(self.jobs), len(self.campaigns))
        self.ready.set()

    # -- state bookkeeping ------------------------------------------------------------------
    def _remember(self, state: JobState, revision: int) -> None:
        known = self.jobs.get(state.job_id)
        if known is None or known[1] < revision:
            self.jobs[state.job_id] = (state, revision)
            self.by_campaign[state.campaign_id].add(state.job_id)
            self.dirty.add(state.campaign_id)

    async def _mutate(
        self, job_id: UUID, change: Callable[[JobState | None], JobState | None]
    ) -> JobState | None:
        state, revision, _ = await self.store.mutate(job_id, change)
        if state is not None:
            self._remember(state, revision)
            # Published whether or not this call changed it: a crash between the KV write and this
            # publish is repaired by the redelivery, and the fixed event id makes repeats no-ops.
            await publish_event(self.js, self.layout, state.status_event(revision))
        return state

    async def _campaign(self, campaign_id: UUID) -> CampaignRecord | None:
        record = self.campaigns.get(campaign_id)
        if record is None:
            record, _ = await self.campaign_store.get(campaign_id)
            if record is not None:
                self.campaigns[campaign_id] = record
        return record

    async def _tell_runner_to_stop(self, state: JobState, runner_id: str, reason: str) -> None:
        command = JobCancelRequested(
            event_id=uuid.uuid5(state.job_id, f"cancel:{runner_id}:{state.attempt}"),
            job_id=state.job_id,
            campaign_id=state.campaign_id,
            runner_id=runner_id,
            reason=reason,
        )
        await self.nc.publish(self.layout.control_subject(runner_id), command.model_dump_json().encode())
        log.info("told runner %s to stop job %s", runner_id, state.job_id)

    # -- events -----------------------------------------------------------------------------
    async def handle(self, event: AnyEvent) -> None:
        await self.ready.wait()
        match event:
            case CampaignSubmitted():
                record = record_from_submitted(event)
                if await self.campaign_store.create(record):
                    self.campaigns[record.campaign_id] = record
                else:
                    await self._campaign(record.campaign_id)
                self.dirty.add(record.campaign_id)
            case CampaignCancelled():
                await self.cancel_campaign(event)
            case JobQueued() | RunStarted() | RunCompleted() | RunFailed():
                await self._job_event(event)

    async def _job_event(self, event: JobQueued | RunStarted | RunCompleted | RunFailed) -> None:
        job_id = event.job.job_id if isinstance(event, JobQueued) else event.job_id
        state = await self._mutate(job_id, lambda s: transition(s, event, self.max_attempts))
        if state is None:
            return
        record = await self._campaign(state.campaign_id)
        if record is not None and record.cancelled and not state.terminal:
            # A job of a cancelled campaign that was queued or started after the cancel: end it too.
            state = await self._cancel_job(state.job_id, record)
        if isinstance(event, RunStarted) and state is not None and state.status == "cancelled":
            await self._tell_runner_to_stop(state, event.runner_id, state.reason or "campaign cancelled")

    async def _cancel_job(self, job_id: UUID, record: CampaignRecord) -> JobState | None:
        assert record.cancelled_at is not None
        cancel = CampaignCancelled(
            event_id=uuid.uuid5(record.campaign_id, "cancelled"),
            occurred_at=record.cancelled_at,
            campaign_id=record.campaign_id,
            reason=record.cancel_reason or "",
        )
        before = self.jobs.get(job_id)
        state = await self._mutate(job_id, lambda s: transition(s, cancel, self.max_attempts))
        if before is not None and before[0].status == "running" and before[0].runner_id and state is not None:
            await self._tell_runner_to_stop(state, before[0].runner_id, state.reason or "campaign cancelled")
        return state

    async def cancel_campaign(self, event: CampaignCancelled) -> None:
        record = await self.campaign_store.cancel(
            event.campaign_id, event.occurred_at, event.reason or "campaign cancelled"
        )
        if record is None:
            log.warning("cancel for unknown campaign %s ignored", event.campaign_id)
            return
        self.campaigns[record.campaign_id] = record
        await purge_campaign_queues(self.js, self.layout, record)
        for job_id in sorted(self.by_campaign.get(record.campaign_id, ())):
            state, _ = self.jobs[job_id]
            if not state.terminal:
                await self._cancel_job(job_id, record)
        self.dirty.add(record.campaign_id)
        log.info("campaign %s cancelled", record.campaign_id)

    # -- advisories -------------------------------------------------------------------------
    async def on_max_deliveries(self, advisory: dict[str, Any]) -> None:
        """The server gave up on a job (MaxDeliver): it ends failed and leaves the queue."""
        await self.ready.wait()
        seq, deliveries = int(advisory["stream_seq"]), int(advisory.get("deliveries", 0))
        try:
            raw = await self.js.get_msg(self.layout.jobs_stream, seq)
        except NotFoundError:
            return  # already removed (acked, terminated, purged or handled before a restart)
        try:
            queued = parse_event(raw.data or b"")
        except ValidationError:
            queued = None
        if isinstance(queued, JobQueued):
            job = queued.job
            reason = f"gave up after {deliveries} deliveries (MaxDeliver {self.max_attempts})"
            fresh = JobState(
                job_id=job.job_id,
                campaign_id=job.campaign_id,
                pool=job.pool,
                status="queued",
                updated_at=self.clock(),
            )
            await self._mutate(job.job_id, lambda s: verdict(s or fresh, "failed", reason, self.clock()))
            log.warning("job %s failed: %s", job.job_id, reason)
        with contextlib.suppress(NotFoundError):
            await self.js.delete_msg(self.layout.jobs_stream, seq)

    # -- periodic sweep: liveness and progress ---------------------------------------------
    async def sweep(self) -> None:
        await self.ready.wait()
        now_mono, now = time.monotonic(), self.clock()
        self.live = await live_runners(self.js, self.layout)
        live_ids = {r.runner_id for r in self.live}
        for runner in self.live:
            for pool in runner.pools:
                self.pool_seen[pool] = now_mono
        purge: set[tuple[str, UUID]] = set()
        for state, _ in list(self.jobs.values()):
            if state.terminal:
                continue
            idle_s = now_mono - self.pool_seen.get(state.pool, self.started)
            if idle_s > self.settings.no_runner_timeout_s:
                reason = f"no runner of pool {state.pool!r} alive for {idle_s:.0f} s"
                if await self._mutate(
                    state.job_id, functools.partial(verdict, status="failed", reason=reason, at=now)
                ):
                    purge.add((state.pool, state.campaign_id))
            elif (
                state.status == "running"
                and state.runner_id not in live_ids
                and (now - state.updated_at).total_seconds() > self.settings.runner_ttl_s
            ):
                reason = f"runner {state.runner_id} vanished; the job returns when its ack wait runs out"
                await self._mutate(
                    state.job_id, functools.partial(verdict, status="queued", reason=reason, at=now)
                )
        for pool, campaign_id in purge:
            await self.js.purge_stream(
                self.layout.jobs_stream, subject=self.layout.job_subject(pool, campaign_id)
            )
        await self.publish_progress(now)

    async def publish_progress(self, now: datetime) -> None:
        dirty, self.dirty = self.dirty, set()
        for campaign_id in dirty:
            record = self.campaigns.get(campaign_id)
            if record is None:
                continue
            runners = sum(1 for r in self.live if set(r.pools) & set(record.pools))
            states = (self.jobs[j][0] for j in self.by_campaign.get(campaign_id, ()))
            progress = campaign_progress(record, states, runners, now)
            if self.published_progress.get(campaign_id) == progress.event_id:
                continue
            await publish_event(self.js, self.layout, progress)
            self.published_progress[campaign_id] = progress.event_id
