"""The runner's FastStream app: pull jobs outbound, execute, publish events durably, then ack.

Ack policy is MANUAL on purpose: a job is acked (ack_sync) only after its completion event has a
PubAck. While it runs, in-progress acks reset AckWait (at under a third of it). Transient failures
are nak'ed with a delay; a job that can never succeed is terminated with a run.failed event. A runner
that lost its job to a newer attempt (fencing) publishes no completion that counts. On SIGTERM it
stops pulling, lets the current job finish within a grace period, else gives it back (nak).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from faststream import AckPolicy, FastStream
from faststream.nats import JStream, NatsBroker, NatsMessage, PullSub
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from pydantic import ValidationError

from llem_control.bootstrap import consumer_config
from llem_control.connection import connect
from llem_control.faststream import broker_options
from llem_runner.errors import Cancelled, RunnerError, ShuttingDown, Superseded
from llem_runner.execute import JobExecution, RunIdentity
from llem_runner.fencing import Fence
from llem_runner.fingerprint import llem_version
from llem_runner.publisher import EventPublisher
from llem_runner.settings import RunnerSettings
from llem_runner.spool import Spool
from llem_schemas.events import JobCancelRequested, JobQueued, RunFailed, RunnerHeartbeat, parse_event
from llem_schemas.jobs import JobSpec
from llem_schemas.subjects import Layout

log = logging.getLogger("llem.runner")
SHUTDOWN_NAK_DELAY_S = 5.0


class Runner:
    def __init__(self, settings: RunnerSettings) -> None:
        self.settings = settings
        self.layout = Layout(settings.prefix)
        self.broker = NatsBroker(
            graceful_timeout=settings.shutdown_grace_s + 10,
            max_reconnect_attempts=-1,  # remote runners must ride out long outages
            reconnect_time_wait=settings.reconnect_wait_s,
            **broker_options(settings, name=f"llem-runner:{settings.runner_id}"),
        )
        self.spool = Spool(settings.state_dir / f"spool-{settings.runner_id}.jsonl", settings.spool_max_bytes)
        self.publisher = EventPublisher(self.layout, self._raw_publish, self.spool)
        self.started_at = datetime.now(UTC)
        self.current: tuple[UUID, UUID] | None = None
        self.stopping = False
        self._exec_task: asyncio.Future[Any] | None = None
        self._stop_reason: str | None = None  # "shutdown" or "cancelled" while stopping the execution
        self._tasks: list[asyncio.Task[None]] = []
        self._ack_wait_s = self.layout.job_ack_wait_s
        for pool in settings.pools:
            spec = self.layout.pool_consumer(pool)
            config = consumer_config(spec)
            self.broker.subscriber(
                spec.filter_subject,
                stream=JStream(spec.stream, declare=False),
                durable=spec.durable_name,
                config=config,
                pull_sub=PullSub(batch_size=1, timeout=5.0),  # one job at a time, no prefetch
                # FastStream's pull subscriptions take their own inbox, not the connection's: the
                # runner's credentials allow only its private one
                inbox_prefix=f"{settings.nats_inbox_prefix or '_INBOX'}.".encode(),
                ack_policy=AckPolicy.MANUAL,
                title=f"jobs:{pool}",
            )(self.on_job)
        self.broker.subscriber(self.layout.control_subject(settings.runner_id), title="control")(
            self.on_control
        )

    @property
    def nc(self) -> NatsClient:
        nc = self.broker.config.connection_state.connection
        assert isinstance(nc, NatsClient)
        return nc

    @property
    def js(self) -> JetStreamContext:
        js = self.broker.config.connection_state.stream
        assert isinstance(js, JetStreamContext)
        return js

    async def _raw_publish(self, payload: bytes, subject: str, stream: str, msg_id: str) -> object:
        return await self.broker.publish(
            payload, subject, headers={"Nats-Msg-Id": msg_id}, stream=stream, timeout=self.publisher.timeout_s
        )

    # -- jobs ------------------------------------------------------------------------------
    async def on_job(self, msg: NatsMessage) -> None:
        if self.stopping:
            await msg.nack(delay=SHUTDOWN_NAK_DELAY_S)  # give it back untouched: another runner takes it
            return
        try:
            queued = parse_event(msg.raw_message.data)
        except ValidationError as exc:
            log.error("terminating malformed job message: %s", exc.errors(include_url=False)[:3])
            await msg.reject()
            return
        if not isinstance(queued, JobQueued):
            log.error("terminating non-job event %s on the jobs subject", queued.type)
            await msg.reject()
            return
        attempt = msg.raw_message.metadata.num_delivered
        ident = RunIdentity(run_id=uuid4(), runner_id=self.settings.runner_id, attempt=attempt)
        self.current = (queued.job.job_id, ident.run_id)
        try:
            await self._run_job(queued.job, ident, msg)
        finally:
            self.current = None
            self._exec_task = None
            self._stop_reason = None

    async def _run_job(self, job: JobSpec, ident: RunIdentity, msg: NatsMessage) -> None:
        fence = await Fence.open(self.nc, self.layout, self.settings.runner_id)
        if not await fence.claim(job.job_id, ident.run_id, ident.attempt):
            log.warning(
                "job %s attempt %d is already superseded; dropping this delivery", job.job_id, ident.attempt
            )
            return
        keepalive_s = min(self.settings.in_progress_interval_s, self._ack_wait_s / 3)
        execution = JobExecution(
            job,
            ident,
            self.publisher.publish,
            msg.in_progress,
            keepalive_s,
            Path(self.settings.model_dir) if self.settings.model_dir else None,
            self.settings.state_dir,
        )
        # The execution is a task of its own: shutdown and cancel requests stop it, not this handler.
        self._exec_task = asyncio.ensure_future(
            execution.run(before_completion=lambda: self._check_fence(fence, job, ident))
        )
        try:
            completed = await self._exec_task
        except Superseded as exc:
            await self._failed(job, ident, exc, retryable=False)
            return  # the newer attempt owns the message: neither ack nor nak this delivery
        except asyncio.CancelledError:
            if self._stop_reason is None:
                raise  # this handler itself was cancelled
            if self._stop_reason == "cancelled":
                await self._failed(job, ident, Cancelled("the job was cancelled"), retryable=False)
                await msg.reject()  # cancelled jobs leave the queue for good
                return
            await self._failed(
                job, ident, ShuttingDown("runner stopped before the job finished"), retryable=True
            )
            # Delayed, so that this runner's own pull loop (still open until the broker stops) cannot
            # take the job straight back; another runner gets it once the delay is over.
            await msg.nack(delay=SHUTDOWN_NAK_DELAY_S)
            return
        except RunnerError as exc:
            await self._failed(job, ident, exc, exc.retryable)
            await (msg.nack(delay=5) if exc.retryable else msg.reject())
            return
        except Exception as exc:
            log.exception("job %s failed unexpectedly", job.job_id)
            await self._failed(job, ident, exc, retryable=True)
            await msg.nack(delay=5)
            return
        log.info("job %s completed as run %s", job.job_id, completed.run_id)
        await msg.ack_sync()

    async def _check_fence(self, fence: Fence, job: JobSpec, ident: RunIdentity) -> None:
        if not await fence.owns(job.job_id, ident.run_id):
            raise Superseded(
                f"job {job.job_id} was taken over by a newer attempt; run {ident.run_id} is void"
            )

    async def _failed(self, job: JobSpec, ident: RunIdentity, exc: BaseException, retryable: bool) -> None:
        await self.publisher.publish(
            RunFailed(
                run_id=ident.run_id,
                job_id=job.job_id,
                campaign_id=job.campaign_id,
                runner_id=ident.runner_id,
                attempt=ident.attempt,
                reason=str(exc) or type(exc).__name__,
                error_type=type(exc).__name__,
                failure_kind=exc.kind if isinstance(exc, RunnerError) else "unexpected",
                retryable=retryable,
            )
        )

    # -- liveness, spool and shutdown -------------------------------------------------------
    def heartbeat(self) -> RunnerHeartbeat:
        job_id, run_id = self.current or (None, None)
        return RunnerHeartbeat(
            runner_id=self.settings.runner_id,
            hostname=socket.gethostname(),
            pools=self.settings.pools,
            started_at=self.started_at,
            heartbeat_interval_s=self.settings.heartbeat_interval_s,
            current_job_id=job_id,
            current_run_id=run_id,
            llem_version=llem_version(),
        )

    async def _heartbeats(self) -> None:
        kv = await self.js.key_value(self.layout.runners_kv.bucket)
        while True:
            beat = self.heartbeat()
            try:
                await kv.put(self.settings.runner_id, beat.model_dump_json().encode())
                await self.publisher.publish(beat)
            except Exception as exc:
                log.warning("heartbeat not published: %s", exc)
            await asyncio.sleep(self.settings.heartbeat_interval_s)

    async def _replay_spool(self) -> None:
        while True:
            if len(self.spool):
                await self.publisher.flush_spool()
            await asyncio.sleep(1.0)

    async def probe(self) -> None:
        """Before the broker connects (it would retry a first connection forever, silently)."""
        await (await connect(self.settings, name=f"llem-runner:{self.settings.runner_id}")).close()

    async def start(self) -> None:
        with contextlib.suppress(Exception):
            info = await self.js.consumer_info(
                self.layout.jobs_stream, self.layout.pool_consumer(self.settings.pools[0]).durable_name
            )
            self._ack_wait_s = float(info.config.ack_wait or self._ack_wait_s)
        self._tasks = [asyncio.create_task(self._heartbeats()), asyncio.create_task(self._replay_spool())]

    def _stop_execution(self, reason: str) -> bool:
        task = self._exec_task
        if task is None or task.done():
            return False
        self._stop_reason = reason
        task.cancel()
        return True

    async def on_control(self, msg: NatsMessage) -> None:
        """Commands from the scheduler on this runner's control subject (core NATS, not persisted)."""
        try:
            command = parse_event(msg.raw_message.data)
        except ValidationError as exc:
            log.error("ignoring malformed control message: %s", exc.errors(include_url=False)[:3])
            return
        if isinstance(command, JobCancelRequested) and self.current and self.current[0] == command.job_id:
            log.warning("job %s cancelled: %s", command.job_id, command.reason or "no reason given")
            self._stop_execution("cancelled")

    async def stop(self) -> None:
        """SIGTERM: stop pulling; give the current job the grace period, then give it back."""
        self.stopping = True
        task = self._exec_task
        if task is not None and not task.done():
            log.info("waiting up to %.0f s for the current job to finish", self.settings.shutdown_grace_s)
            done, _ = await asyncio.wait([task], timeout=self.settings.shutdown_grace_s)
            if not done:
                log.warning("grace period over: giving the job back")
                self._stop_execution("shutdown")
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait([task])
                # let the handler publish run.failed and nak before the broker closes
                for _ in range(600):
                    if self.current is None:
                        break
                    await asyncio.sleep(0.05)
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t


def create_app(settings: RunnerSettings | None = None) -> tuple[FastStream, Runner]:
    runner = Runner(settings or RunnerSettings())
    app = FastStream(
        runner.broker, on_startup=[runner.probe], after_startup=[runner.start], on_shutdown=[runner.stop]
    )
    return app, runner
