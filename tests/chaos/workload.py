"""What runs while a fault is injected, and the ledger check of what came out.

- `Campaign`: a campaign of tiny-model jobs for the stack's runners (hand-built, like the runner
  tests', so every job's id is known up front).
- `MetricLoad`: a producer of metric batches beside the runners, as a runner publishes them (its
  event id as Nats-Msg-Id, counted only with a PubAck, the same batch retried until acknowledged).
  It records every acknowledgement and every refusal it saw.
- `audit`: the Jepsen-style read-back: per job exactly one end state (scheduler store, database and
  the public status events agree), per acknowledged sample exactly one row, per completed run one
  summary, nothing stored that nobody sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import nats.errors
import nats.js.errors
from nats.js import JetStreamContext

from llem_control.state import TERMINAL
from llem_schemas.events import CampaignSubmitted, JobQueued, MetricBatch
from llem_schemas.measurement import MetricSample
from llem_schemas.subjects import Layout
from tests.skeleton import skeleton_jobs, submit
from tests.waiting import db_rows, wait_for

from .ledger import Outcome
from .stack import POOL, ChaosStack

LOAD_RUNNER = "load"  # the metric load's runner id (published with the admin user)


@dataclass
class Campaign:
    campaign: CampaignSubmitted
    jobs: list[JobQueued]

    @classmethod
    def of(cls, stack: ChaosStack, name: str, jobs: int) -> Campaign:
        campaign, queued = skeleton_jobs(
            str(stack.tiny_model), POOL, name=f"{stack.layout.prefix}-{name}", repetitions=jobs,
            num_requests=3, max_output_tokens=8,
        )  # fmt: skip
        return cls(campaign, queued)

    @property
    def id(self) -> str:
        return str(self.campaign.campaign_id)

    @property
    def job_ids(self) -> list[str]:
        return [str(q.job.job_id) for q in self.jobs]

    async def submit(self, js: JetStreamContext, layout: Layout) -> None:
        await submit(js, layout, self.campaign, self.jobs)

    def completed_runs(self, database_url: str) -> int:
        rows = db_rows(
            database_url,
            "SELECT count(*) FROM runs WHERE campaign_id = %s AND status = 'completed' AND NOT superseded",
            self.id,
        )
        return int(str(rows[0][0]))


@dataclass
class MetricLoad:
    """`rate_hz` batches a second of `per_batch` samples, on `runs` runs of one campaign."""

    js: JetStreamContext
    layout: Layout
    campaign_id: uuid.UUID = field(default_factory=uuid.uuid4)
    rate_hz: float = 5.0
    per_batch: int = 40
    runs: int = 2
    acked: dict[tuple[str, int], int] = field(default_factory=dict)  # (run, seq) -> samples
    refusals: Counter[str] = field(default_factory=Counter)  # error kind -> count
    attempts: int = 0
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self.run_ids = [uuid.uuid4() for _ in range(self.runs)]
        self._t0 = datetime.now(UTC)

    def batch(self, run: int, seq: int) -> MetricBatch:
        base = self._t0 + timedelta(seconds=seq)
        return MetricBatch(
            event_id=uuid.uuid5(self.run_ids[run], f"batch:{seq}"),
            run_id=self.run_ids[run],
            job_id=uuid.uuid5(self.run_ids[run], "job"),
            campaign_id=self.campaign_id,
            runner_id=LOAD_RUNNER,
            attempt=1,
            seq=seq,
            meter="none",
            sampling_period_ms=25,
            samples=[
                MetricSample(sampled_at=base + timedelta(milliseconds=25 * k), power_w=100.0 + k)
                for k in range(self.per_batch)
            ],
        )

    async def publish_until_acked(self, batch: MetricBatch) -> None:
        payload = batch.model_dump_json().encode()
        backoff = 0.1
        while True:
            self.attempts += 1
            try:
                await self.js.publish(
                    self.layout.subject_for(batch),
                    payload,
                    timeout=2,
                    stream=self.layout.metrics_stream,
                    headers={"Nats-Msg-Id": str(batch.event_id)},
                )
            except (nats.errors.Error, nats.js.errors.Error, TimeoutError, OSError) as exc:
                self.refusals[_kind(exc)] += 1
                await asyncio.sleep(backoff)  # pacing of the retries (a producer's backoff), no sync
                backoff = min(1.0, backoff * 2)
                continue
            self.acked[(str(batch.run_id), batch.seq)] = len(batch.samples)
            return

    async def _run(self) -> None:
        seq = 0
        while not self._stop.is_set():
            started = time.monotonic()
            for run in range(self.runs):
                await self.publish_until_acked(self.batch(run, seq))
            seq += 1
            with contextlib.suppress(TimeoutError):  # pacing: the load's rate
                await asyncio.wait_for(
                    self._stop.wait(), max(0.0, 1 / self.rate_hz - (time.monotonic() - started))
                )

    def start(self) -> MetricLoad:
        self._task = asyncio.create_task(self._run())
        return self

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task

    @property
    def samples_acked(self) -> int:
        return sum(self.acked.values())

    def stored(self, database_url: str) -> dict[tuple[str, int], int]:
        rows = db_rows(
            database_url,
            "SELECT run_id::text, seq, samples FROM metric_batches WHERE run_id = ANY(%s)",
            self.run_ids,
        )
        return {(str(r), int(str(s))): int(str(n)) for r, s, n in rows}

    def caught_up(self, database_url: str) -> bool:
        stored = self.stored(database_url)
        return all(k in stored for k in self.acked)

    def sample_rows(self, database_url: str) -> tuple[int, int]:
        """(rows, distinct keys) of this load's samples in the database."""
        rows = db_rows(
            database_url,
            "SELECT count(*), count(DISTINCT (run_id, gpu_index, sampled_at)) FROM metric_samples"
            " WHERE run_id = ANY(%s)",
            self.run_ids,
        )
        return int(str(rows[0][0])), int(str(rows[0][1]))


def _kind(exc: BaseException) -> str:
    text = str(exc).lower()
    if "maximum bytes" in text or "insufficient resources" in text:
        return "stream full"
    return type(exc).__name__


async def _stream_docs(js: JetStreamContext, subject: str) -> list[dict[str, object]]:
    """Every message the streams hold on `subject` (a filter), decoded."""
    sub = await js.subscribe(subject, ordered_consumer=True)
    docs: list[dict[str, object]] = []
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=3)
            except TimeoutError:
                break  # nothing (more) on that subject
            docs.append(json.loads(msg.data))
            if msg.metadata.num_pending == 0:
                break
    finally:
        await sub.unsubscribe()
    return docs


async def job_states(js: JetStreamContext, layout: Layout, job_ids: list[str]) -> dict[str, str]:
    kv = await js.key_value(layout.job_state_kv.bucket)
    out = {}
    for job_id in job_ids:
        try:
            entry = await kv.get(job_id)
        except nats.js.errors.KeyNotFoundError:
            out[job_id] = "not recorded"
            continue
        out[job_id] = str(json.loads(entry.value or b"{}")["status"])
    return out


async def all_ended(js: JetStreamContext, layout: Layout, campaign: Campaign) -> bool:
    states = await job_states(js, layout, campaign.job_ids)
    return all(s in TERMINAL for s in states.values())


async def audit(
    stack: ChaosStack,
    js: JetStreamContext,
    campaign: Campaign,
    load: MetricLoad | None,
    outcome: Outcome,
    timeout_s: float = 300,
) -> Outcome:
    """Wait until the pipeline has caught up, then count the ledger into `outcome`."""
    layout, url = stack.layout, stack.database_url
    await wait_for(lambda: all_ended(js, layout, campaign), timeout_s, f"every job of {campaign.id} ended")
    if load is not None:
        await wait_for(
            lambda: load.caught_up(url), timeout_s, "ingest to store every acknowledged load batch"
        )

    # jobs: the scheduler's store, the database's jobs table, the runs and the public status events
    states = await job_states(js, layout, campaign.job_ids)
    await wait_for(
        lambda: _db_jobs_agree(url, campaign, states), timeout_s, "the database's job states to agree"
    )
    db_jobs = _db_job_states(url, campaign)
    counted = _counted_runs(url, campaign)
    finals = await _terminal_status_events(js, layout, campaign)
    ended_once = 0
    twice, stuck = [], []
    for job_id in campaign.job_ids:
        state = states[job_id]
        runs = counted.get(job_id, [])
        completed_ok = state != "completed" or (len(runs) == 1 and runs[0][0] == "completed" and runs[0][1])
        if state not in TERMINAL:
            stuck.append(job_id)
        elif len(finals.get(job_id, set())) > 1 or len(runs) > 1 or not completed_ok:
            twice.append(job_id)
        elif db_jobs.get(job_id) == state:
            ended_once += 1
    unknown_runs = db_rows(
        url, "SELECT count(*) FROM runs WHERE campaign_id = %s AND NOT (job_id = ANY(%s))",
        campaign.id, [uuid.UUID(j) for j in campaign.job_ids],
    )[0][0]  # fmt: skip
    outcome.jobs = len(campaign.job_ids)
    outcome.jobs_ended_once = ended_once
    outcome.observed.update(
        job_states=dict(Counter(states.values())),
        superseded_attempts=_superseded(url, campaign),
        stuck=len(stuck),
        ended_twice=len(twice),
    )
    outcome.unexpected += int(str(unknown_runs)) + len(twice)
    outcome.lost += len(stuck)

    # the runners' own metric batches: every batch the stream acknowledged is stored, once
    runner_batches = await _runner_batches(js, layout, campaign)
    stored_batches = _db_batches(url, campaign)
    outcome.observed["runner_batches"] = len(runner_batches)
    outcome.lost += len(set(runner_batches) - set(stored_batches))
    outcome.unexpected += len(set(stored_batches) - set(runner_batches))
    rows, distinct = _campaign_sample_rows(url, campaign)
    outcome.samples_acked += sum(runner_batches.values())
    outcome.samples_stored += min(distinct, sum(n for k, n in stored_batches.items() if k in runner_batches))
    outcome.duplicated += rows - distinct

    if load is not None:
        stored = load.stored(url)
        outcome.samples_acked += load.samples_acked
        outcome.lost += sum(n for k, n in load.acked.items() if k not in stored)
        outcome.unexpected += sum(1 for k in stored if k not in load.acked)
        rows, distinct = load.sample_rows(url)
        outcome.samples_stored += min(distinct, sum(n for k, n in stored.items() if k in load.acked))
        outcome.duplicated += rows - distinct
        outcome.observed["load_refusals"] = dict(load.refusals)
    return outcome


def _db_job_states(url: str, campaign: Campaign) -> dict[str, str]:
    rows = db_rows(url, "SELECT job_id::text, status FROM jobs WHERE campaign_id = %s", campaign.id)
    return {str(j): str(s) for j, s in rows}


def _db_jobs_agree(url: str, campaign: Campaign, states: dict[str, str]) -> bool:
    db = _db_job_states(url, campaign)
    return all(db.get(j) == s for j, s in states.items())


def _counted_runs(url: str, campaign: Campaign) -> dict[str, list[tuple[str, bool]]]:
    rows = db_rows(
        url,
        "SELECT job_id::text, status, summary IS NOT NULL FROM runs WHERE campaign_id = %s AND NOT superseded",
        campaign.id,
    )
    out: dict[str, list[tuple[str, bool]]] = {}
    for job_id, status, has_summary in rows:
        out.setdefault(str(job_id), []).append((str(status), bool(has_summary)))
    return out


def _superseded(url: str, campaign: Campaign) -> int:
    rows = db_rows(url, "SELECT count(*) FROM runs WHERE campaign_id = %s AND superseded", campaign.id)
    return int(str(rows[0][0]))


async def _terminal_status_events(
    js: JetStreamContext, layout: Layout, campaign: Campaign
) -> dict[str, set[str]]:
    """Per job, the distinct terminal statuses the scheduler published (one, or it decided twice)."""
    docs = await _stream_docs(js, layout.job_event_subject(campaign.id, "*", "status"))
    out: dict[str, set[str]] = {}
    for doc in docs:
        if doc.get("status") in TERMINAL:
            out.setdefault(str(doc["job_id"]), set()).add(str(doc["status"]))
    return out


async def _runner_batches(
    js: JetStreamContext, layout: Layout, campaign: Campaign
) -> dict[tuple[str, int], int]:
    docs = await _stream_docs(js, f"{layout.prefix}.metrics.*.{campaign.id}.*")
    return {
        (str(d["run_id"]), int(str(d["seq"]))): len(d["samples"])  # type: ignore[arg-type]
        for d in docs
        if d.get("type") == "metric.batch"
    }


def _db_batches(url: str, campaign: Campaign) -> dict[tuple[str, int], int]:
    rows = db_rows(
        url,
        "SELECT b.run_id::text, b.seq, b.samples FROM metric_batches b JOIN runs r USING (run_id)"
        " WHERE r.campaign_id = %s",
        campaign.id,
    )
    return {(str(r), int(str(s))): int(str(n)) for r, s, n in rows}


def _campaign_sample_rows(url: str, campaign: Campaign) -> tuple[int, int]:
    rows = db_rows(
        url,
        "SELECT count(*), count(DISTINCT (s.run_id, s.gpu_index, s.sampled_at)) FROM metric_samples s"
        " JOIN runs r USING (run_id) WHERE r.campaign_id = %s",
        campaign.id,
    )
    return int(str(rows[0][0])), int(str(rows[0][1]))
