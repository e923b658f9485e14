"""The runner's FastStream app: pull jobs outbound, execute, publish events durably, then ack.

Ack policy is MANUAL on purpose: a job is acked only after its completion (or failure) event
has been stored by JetStream (PubAck). While it runs, in-progress acks reset AckWait. A crash
before the ack lets JetStream redeliver the job to another runner of the pool (attempt + 1).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

from faststream import AckPolicy, FastStream
from faststream.nats import JStream, NatsBroker, NatsMessage, PullSub
from nats.js.api import ConsumerConfig
from pydantic import ValidationError

from llem_runner.errors import RunnerError
from llem_runner.execute import JobExecution, RunIdentity
from llem_runner.fingerprint import llem_version
from llem_runner.settings import RunnerSettings
from llem_schemas.base import Event
from llem_schemas.events import JobQueued, RunFailed, RunnerHeartbeat, parse_event
from llem_schemas.subjects import Layout

log = logging.getLogger("llem.runner")


class Runner:
    def __init__(self, settings: RunnerSettings) -> None:
        self.settings = settings
        self.layout = Layout(settings.prefix)
        self.broker = NatsBroker(
            settings.nats_url,
            max_reconnect_attempts=-1,  # remote runners must ride out long outages
            reconnect_time_wait=settings.reconnect_wait_s,
            user_credentials=settings.nats_creds,
        )
        self.started_at = datetime.now(UTC)
        self.current: tuple[UUID, UUID] | None = None
        for pool in settings.pools:
            spec = self.layout.pool_consumer(pool)
            config = ConsumerConfig(**spec.config_kwargs())  # type: ignore[arg-type]
            self.broker.subscriber(
                spec.filter_subject,
                stream=JStream(spec.stream, declare=False),
                durable=spec.durable_name,
                config=config,
                pull_sub=PullSub(batch_size=1, timeout=5.0),
                ack_policy=AckPolicy.MANUAL,
                title=f"jobs:{pool}",
            )(self.on_job)
        self._heartbeat_task: asyncio.Task[None] | None = None

    async def publish(self, event: Event) -> None:
        """Publish to JetStream and wait for the PubAck: the event is durable when this returns."""
        await self.broker.publish(
            event.model_dump_json(),
            self.layout.subject_for(event),
            headers={"Nats-Msg-Id": str(event.event_id)},
            stream=self.layout.metrics_stream if event.type == "metric.batch" else self.layout.events_stream,  # type: ignore[attr-defined]
        )

    async def on_job(self, msg: NatsMessage) -> None:
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
        job = queued.job
        attempt = msg.raw_message.metadata.num_delivered
        ident = RunIdentity(run_id=uuid4(), runner_id=self.settings.runner_id, attempt=attempt)
        self.current = (job.job_id, ident.run_id)
        model_dir = Path(self.settings.model_dir) if self.settings.model_dir else None
        execution = JobExecution(
            job, ident, self.publish, msg.in_progress, self.settings.in_progress_interval_s, model_dir
        )
        try:
            await execution.run()
        except RunnerError as exc:
            await self._failed(job.job_id, job.campaign_id, ident, exc, exc.retryable)
            await (msg.nack(delay=5) if exc.retryable else msg.reject())
            return
        except Exception as exc:
            log.exception("job %s failed unexpectedly", job.job_id)
            await self._failed(job.job_id, job.campaign_id, ident, exc, retryable=True)
            await msg.nack(delay=5)
            return
        finally:
            self.current = None
        await msg.ack_sync()

    async def _failed(
        self, job_id: UUID, campaign_id: UUID, ident: RunIdentity, exc: BaseException, retryable: bool
    ) -> None:
        await self.publish(
            RunFailed(
                run_id=ident.run_id,
                job_id=job_id,
                campaign_id=campaign_id,
                runner_id=ident.runner_id,
                attempt=ident.attempt,
                reason=str(exc) or type(exc).__name__,
                error_type=type(exc).__name__,
                retryable=retryable,
            )
        )

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
        while True:
            try:
                await self.publish(self.heartbeat())
            except Exception as exc:
                log.warning("heartbeat not published: %s", exc)
            await asyncio.sleep(self.settings.heartbeat_interval_s)

    async def start_heartbeats(self) -> None:
        self._heartbeat_task = asyncio.create_task(self._heartbeats())

    async def stop_heartbeats(self) -> None:
        if self._heartbeat_task:
            self._heartbeat_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat_task


def create_app(settings: RunnerSettings | None = None) -> tuple[FastStream, Runner]:
    runner = Runner(settings or RunnerSettings())
    app = FastStream(
        runner.broker, after_startup=[runner.start_heartbeats], on_shutdown=[runner.stop_heartbeats]
    )
    return app, runner
