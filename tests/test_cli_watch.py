"""`llem campaign watch`: the reducer on its own (any order, any repeats, one state), then the CLI
against a real nats-server, scheduler and runner on the tiny llama.cpp model."""

from __future__ import annotations

import asyncio
import json
import os
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from nats.js import JetStreamContext

from llem.devstack import NatsServer
from llem.watch import WatchState, counts, outcome, reduce_all
from llem.watch_follow import parse
from llem.watch_view import plain_lines, power, render
from llem_control.expand import expand
from llem_control.registry import live_runners
from llem_control.submit import cancel_campaign, submit_campaign
from llem_schemas.campaign import CampaignSpec
from llem_schemas.events import (
    AnyEvent,
    CampaignProgress,
    CampaignSubmitted,
    JobStatus,
    JobStatusChanged,
    MetricBatch,
)
from llem_schemas.jobs import JobSpec
from llem_schemas.measurement import MetricSample
from llem_schemas.subjects import Layout
from tests import events
from tests.processes import BIN, service
from tests.waiting import wait_for

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _spec_doc(model: Path | str, num_requests: int = 2, name: str | None = None) -> dict[str, object]:
    return {
        "name": name or f"watch-{uuid.uuid4().hex[:6]}",
        "pools": [{"name": "cpu", "gpu": False}],
        "models": [{"name": "tiny", "gguf": str(model), "context_limit": 256}],
        "backends": [{"kind": "llama_cpp", "n_ctx": 256, "n_threads": 1}],
        "workload": {"num_requests": num_requests, "max_output_tokens": 8},
        "protocol": {"meter": "none", "warmup_requests": 0},
        "repetitions": 2,
    }


def _jobs(n_jobs: int = 2) -> tuple[uuid.UUID, list[JobSpec]]:
    expansion = expand(CampaignSpec.model_validate(_spec_doc("/models/tiny.gguf", name="watch-unit")))
    return expansion.campaign_id, expansion.jobs[:n_jobs]


def _status(
    job: JobSpec, revision: int, status: JobStatus, run_id: uuid.UUID | None = None
) -> JobStatusChanged:
    return JobStatusChanged(
        job_id=job.job_id,
        campaign_id=job.campaign_id,
        pool=job.pool,
        status=status,
        attempt=1 if status != "queued" else 0,
        runner_id="r1" if status != "queued" else None,
        run_id=run_id,
        revision=revision,
    )


def _progress(cid: uuid.UUID, at_s: int, done: int, eta_s: float | None) -> CampaignProgress:
    return CampaignProgress(
        occurred_at=T0 + timedelta(seconds=at_s),
        campaign_id=cid,
        status="finished" if done == 2 else "running",
        total=2,
        queued=0,
        running=2 - done,
        completed=done,
        failed=0,
        cancelled=0,
        eta_s=eta_s,
        live_runners=1,
    )


def _batch(job: JobSpec, run_id: uuid.UUID, seq: int, gpu_power_w: list[float | None]) -> MetricBatch:
    """Two GPUs sampled at seq seconds: power, an energy counter at 100 J/s each, and tokens."""
    at = T0 + timedelta(seconds=seq)
    return MetricBatch(
        run_id=run_id,
        job_id=job.job_id,
        campaign_id=job.campaign_id,
        runner_id="r1",
        attempt=1,
        seq=seq,
        meter="nvml",
        samples=[
            MetricSample(
                sampled_at=at,
                gpu_index=i,
                power_w=p,
                energy_counter_j=1000.0 + 100 * seq,
                output_tokens_total=10 * seq,
            )
            for i, p in enumerate(gpu_power_w)
        ],
    )


def _campaign_events() -> tuple[uuid.UUID, list[AnyEvent]]:
    cid, (a, b) = _jobs()
    run_a, run_b = uuid.uuid4(), uuid.uuid4()
    return cid, [
        CampaignSubmitted(campaign_id=cid, name="c", job_count=2),
        _status(a, 1, "queued"),
        _status(b, 2, "queued"),
        events.started(a, 1, run_id=run_a),
        _status(a, 3, "running", run_a),
        _batch(a, run_a, 0, [100.0, 110.0]),
        _batch(a, run_a, 1, [200.0, 210.0]),
        events.started(b, 1, run_id=run_b),
        _status(b, 4, "running", run_b),
        _progress(cid, 1, 0, None),
        _batch(b, run_b, 0, [50.0, None]),
        _batch(a, run_a, 2, [300.0, 310.0]),
        _progress(cid, 2, 0, 30.0),
    ]


def test_in_order_shuffled_and_repeated_events_give_one_state() -> None:
    cid, seq = _campaign_events()
    expected = reduce_all(WatchState(cid), seq)
    rng = random.Random(7)
    for _ in range(50):
        shuffled = [*seq, *rng.sample(seq, k=len(seq) // 2)]  # repeats too
        rng.shuffle(shuffled)
        assert reduce_all(WatchState(cid), shuffled) == expected
    assert reduce_all(expected, seq) == expected, "a replay of everything changes nothing"

    _, (a, b) = _jobs()
    running = {job.job_id: (job, run) for job, run in expected.running()}
    (job_a, run_a), (_, run_b) = running[a.job_id], running[b.job_id]
    assert run_a is not None and run_b is not None
    assert (job_a.status, job_a.attempt, job_a.runner_id) == ("running", 1, "r1")
    assert run_a.power_w == 610.0, "the latest power of each GPU, summed"
    assert run_a.energy_j == 400.0, "2 s x 100 J/s x 2 GPUs, from the energy counters"
    assert run_a.output_tokens_per_s == 10.0
    assert run_b.power_w is None and power(run_b) == "no power reading", "never a partial sum"
    assert run_b.energy_j is None, "one sample measures no energy"
    assert expected.progress is not None and expected.progress.eta_s == 30.0
    assert counts(expected).line() == "queued=0 running=2 completed=0 failed=0 cancelled=0 total=2"
    assert outcome(expected) is None


def test_outcomes_from_job_states_whatever_their_order() -> None:
    cid, seq = _campaign_events()
    _, (a, b) = _jobs()
    done = [*seq, _status(a, 5, "completed"), _status(b, 6, "completed"), _progress(cid, 3, 2, 0.0)]
    for order in (done, done[::-1], [*done, *done]):
        result = outcome(reduce_all(WatchState(cid), order))
        assert result is not None and (result.status, result.exit_code) == ("finished", 0)
        assert result.counts.completed == 2
    failed = outcome(reduce_all(WatchState(cid), [*seq, _status(a, 5, "completed"), _status(b, 6, "failed")]))
    assert failed is not None and failed.exit_code == 1
    assert failed.summary(cid) == f"campaign {cid} finished: 1 completed, 1 failed, 0 cancelled of 2 job(s)"
    stale = [*seq, _status(a, 5, "completed"), _status(a, 4, "running")]
    assert reduce_all(WatchState(cid), stale).jobs[a.job_id].status == "completed", "older revision ignored"


def test_the_progress_ends_a_watch_whose_job_events_were_lost() -> None:
    cid, _ = _jobs()
    state = reduce_all(WatchState(cid), [CampaignSubmitted(campaign_id=cid, name="c", job_count=2)])
    assert outcome(state) is None
    result = outcome(reduce_all(state, [_progress(cid, 9, 2, 0.0)]))
    assert result is not None and result.exit_code == 0


def test_a_cpu_only_run_shows_no_power_and_the_views_render() -> None:
    cid, (a, _) = _jobs()
    run_id = uuid.uuid4()
    host_only = MetricBatch(
        run_id=run_id, job_id=a.job_id, campaign_id=cid, runner_id="r1", attempt=1, seq=0, meter="none",
        samples=[MetricSample(sampled_at=T0 + timedelta(seconds=s), output_tokens_total=8 * s) for s in (0, 2)],
    )  # fmt: skip
    submitted = CampaignSubmitted(campaign_id=cid, name="c", job_count=2)
    state = reduce_all(WatchState(cid), [submitted, _status(a, 3, "running", run_id), host_only])
    run = state.runs[run_id]
    assert (run.power_w, run.energy_j, run.cpu_energy_j, run.output_tokens_per_s) == (None, None, None, 8.0)
    lines = plain_lines(None, state)
    assert (
        lines[0]
        == f"job {str(a.job_id)[:8]} running on r1 (attempt 1): no power reading, energy -, 8.0 tok/s"
    )
    assert lines[-1] == "queued=1 running=1 completed=0 failed=0 cancelled=0 total=2 eta=unknown runners=?"
    assert plain_lines(state, state) == [], "nothing changed, nothing printed"
    render(state)  # builds without a console


def test_an_invalid_message_is_skipped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    assert parse("p.events.job.x.y.status", b'{"type": "job.status"}') is None
    assert parse("p.metrics.x.y", b"not json") is None
    assert "skipped an invalid message on p.metrics.x.y" in caplog.text


# -- end to end ---------------------------------------------------------------------------------


@pytest.fixture
def env(nats_env: dict[str, str], layout: Layout, tmp_path: Path) -> dict[str, str]:
    """The scheduler's and the runner's environment (no database: nothing here ingests)."""
    return {
        "LLEM_STATE_DIR": str(tmp_path / "runner-state"),
        **os.environ,
        **nats_env,
        "LLEM_PREFIX": layout.prefix,
        "LLEM_POOLS": '["cpu"]',
        "LLEM_HEARTBEAT_INTERVAL_S": "1",
        "LLEM_SWEEP_INTERVAL_S": "0.5",
        "LLEM_JOB_ACK_WAIT_S": str(layout.job_ack_wait_s),
        "LLEM_JOB_MAX_DELIVER": str(layout.job_max_deliver),
        "LLEM_RUNNER_TTL_S": str(layout.runner_ttl_s),
    }


async def _llem(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(BIN / "llem"), *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )


@pytest.fixture
def scheduler(env: dict[str, str], tmp_path: Path) -> Iterator[None]:
    with service("llem-scheduler", ["run"], env, tmp_path):
        yield


@pytest.mark.e2e
async def test_submit_watch_follows_a_campaign_to_its_end_and_exits_0(
    js: JetStreamContext,
    layout: Layout,
    env: dict[str, str],
    scheduler: None,
    tiny_model: Path,
    tmp_path: Path,
) -> None:
    spec_file = tmp_path / "campaign.yaml"
    spec_file.write_text(json.dumps(_spec_doc(tiny_model)))  # JSON is YAML
    with service("llem-runner", ["run", "--runner-id", "w1"], env, tmp_path):
        await wait_for(lambda: live_runners(js, layout), 30, "the runner's heartbeat")
        proc = await _llem(
            "campaign", "submit", str(spec_file), "--watch",
            "--nats", env["LLEM_NATS_URL"], "--nkey-seed", env["LLEM_NATS_NKEY_SEED"],
            "--prefix", layout.prefix, "--timeout", "120",
        )  # fmt: skip
        out, _ = await asyncio.wait_for(proc.communicate(), 150)
    text = out.decode()
    print(text)
    assert proc.returncode == 0, text
    assert "queued=0 running=0 completed=2 failed=0 cancelled=0 total=2" in text
    assert text.rstrip().splitlines()[-1].endswith("finished: 2 completed, 0 failed, 0 cancelled of 2 job(s)")
    assert "running on w1 (attempt 1)" in text
    assert "no power reading" in text, "the CPU-only meter measures no power: none is shown"
    assert "tok/s" in text


@pytest.mark.e2e
async def test_watch_of_a_cancelled_campaign_exits_1(
    js: JetStreamContext, layout: Layout, env: dict[str, str], scheduler: None
) -> None:
    spec = CampaignSpec.model_validate(_spec_doc("/models/tiny.gguf"))
    expansion = expand(spec)  # no runner: the jobs stay queued until the cancel
    await submit_campaign(js, layout, spec, expansion)
    cid = str(expansion.campaign_id)
    proc = await _llem(
        "campaign", "watch", cid, "--nats", env["LLEM_NATS_URL"], "--nkey-seed", env["LLEM_NATS_NKEY_SEED"],
        "--prefix", layout.prefix,
    )  # fmt: skip
    assert proc.stdout is not None
    first = await asyncio.wait_for(proc.stdout.readline(), 30)
    assert first.startswith(b"job "), first  # the snapshot is shown: the watch is following
    await cancel_campaign(js, layout, expansion.campaign_id, "changed my mind")
    rest, _ = await asyncio.wait_for(proc.communicate(), 60)
    text = (first + rest).decode()
    print(text)
    assert proc.returncode == 1, text
    assert "[changed my mind]" in text
    assert text.rstrip().splitlines()[-1] == (
        f"campaign {cid} cancelled: 0 completed, 0 failed, 2 cancelled of 2 job(s)"
    )


async def test_watch_of_an_unknown_campaign_exits_2(
    js: JetStreamContext, layout: Layout, nats_server: NatsServer, admin_seed: str
) -> None:
    for prefix in (layout.prefix, "nothingdeployed"):  # a campaign bucket without it, and no bucket at all
        cid = str(uuid.uuid4())
        url = nats_server.url
        proc = await _llem(
            "campaign", "watch", cid, "--nats", url, "--nkey-seed", admin_seed, "--prefix", prefix
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 2, out
        assert out.decode().strip() == f"no campaign {cid} (prefix {prefix})"
