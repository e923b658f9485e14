"""End to end with real parts: NATS JetStream, runner process + llama.cpp, ingest process, TimescaleDB, API."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from nats.js import JetStreamContext

from llem_api.app import create_app
from llem_api.settings import ApiSettings
from llem_schemas.subjects import Layout
from tests.skeleton import skeleton_jobs, submit

from .natsauth import SeedOf
from .processes import service
from .waiting import db_rows, wait_for

pytestmark = pytest.mark.e2e


async def _wait_for_completed_run(
    client: AsyncTestClient[Litestar], campaign_id: str, timeout_s: float
) -> dict[str, object]:

    async def completed() -> list[dict[str, object]]:
        resp = await client.get("/api/runs")
        assert resp.status_code == 200, resp.text
        items: list[dict[str, object]] = resp.json()["items"]
        return [r for r in items if r["campaign_id"] == campaign_id and r["status"] == "completed"]

    runs = await wait_for(completed, timeout_s, f"a completed run of campaign {campaign_id}")
    return dict(runs[0])


async def test_job_to_run_visible_in_the_api(
    seed_of: SeedOf,
    js: JetStreamContext,
    layout: Layout,
    tiny_model: Path,
    service_env: dict[str, str],
    database_url: str,
    tmp_path: Path,
) -> None:
    campaign, jobs = skeleton_jobs(str(tiny_model), "cpu", num_requests=4, max_output_tokens=16)
    with (
        service("llem-ingest", ["run"], service_env, tmp_path),
        service("llem-runner", ["run"], {**service_env, "LLEM_RUNNER_ID": "e2e-runner"}, tmp_path),
    ):
        await submit(js, layout, campaign, jobs)
        app = create_app(
            ApiSettings(
                nats_nkey_seed=seed_of("api", layout.prefix),
                database_url=database_url,
                nats_url=service_env["LLEM_NATS_URL"],
                prefix=layout.prefix,
            )
        )
        async with AsyncTestClient(app=app) as client:
            run = await _wait_for_completed_run(client, str(campaign.campaign_id), timeout_s=90)

    assert run["job_id"] == str(jobs[0].job.job_id)
    assert run["runner_id"] == "e2e-runner"
    assert run["attempt"] == 1
    assert run["backend"] == "llama_cpp"
    assert run["meter"] == "none"
    assert isinstance(run["output_tokens"], int)
    assert 0 < run["output_tokens"] <= 4 * 16
    assert isinstance(run["prompt_tokens"], int)
    assert run["prompt_tokens"] > 0
    assert run["energy_j"] is None, "no GPU here: energy must be null, not estimated"
    flags = run["quality_flags"]
    assert isinstance(flags, list)
    assert "no_energy_meter" in {f["code"] for f in flags}

    with psycopg.connect(database_url) as conn:
        samples = conn.execute(
            "SELECT count(*), max(output_tokens_total), count(power_w) FROM metric_samples WHERE run_id = %s",
            (run["run_id"],),
        ).fetchone()
        assert samples is not None
        count, max_tokens, powers = samples
        assert count >= 2
        assert max_tokens == run["output_tokens"]
        assert powers == 0
        assert conn.execute("SELECT count(*) FROM jobs").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM campaigns").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM runners WHERE runner_id = 'e2e-runner'").fetchone() == (1,)

    # The job was acked only after completion: the work queue is empty and nothing is pending.
    assert (await js.stream_info(layout.jobs_stream)).state.messages == 0
    consumer = await js.consumer_info(layout.jobs_stream, "pool-cpu")
    assert consumer.num_ack_pending == 0
    assert consumer.num_pending == 0


async def test_a_job_that_cannot_run_fails_once_with_its_reason(
    js: JetStreamContext, layout: Layout, service_env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    campaign, jobs = skeleton_jobs(str(tmp_path / "no-such-model.gguf"), "cpu", name="broken")
    with (
        service("llem-ingest", ["run"], service_env, tmp_path),
        service("llem-runner", ["run"], {**service_env, "LLEM_RUNNER_ID": "e2e-runner"}, tmp_path),
    ):
        await submit(js, layout, campaign, jobs)
        rows = await wait_for(
            lambda: db_rows(database_url, "SELECT status, failure_type, failure_reason, retryable FROM runs"),
            60,
            "the run.failed event to reach the database",
        )
    status, failure_type, reason, retryable = rows[0]
    assert isinstance(reason, str)
    assert (status, failure_type, retryable) == ("failed", "JobRejected", False)
    assert "model file not found" in reason
    # Not retryable: terminated, not redelivered to another runner.
    consumer = await js.consumer_info(layout.jobs_stream, "pool-cpu")
    assert consumer.num_ack_pending == 0
    assert consumer.num_redelivered == 0
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM runs").fetchone() == (1,)
