"""Runs, time series, requests, campaigns, runners and health through Litestar's test client, on a
database seeded through the real ingest path; unknown ids and bad parameters are 4xx problems."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import schemathesis
from litestar.testing import AsyncTestClient
from nats.js import JetStreamContext

from llem_api.app import create_app
from llem_api.cli import OPENAPI
from llem_api.settings import ApiSettings
from llem_schemas import (
    CampaignProgress,
    CampaignSubmitted,
    JobQueued,
    JobSpec,
    JobStatusChanged,
    LlamaCppBackend,
    MetricBatch,
    MetricSample,
    RequestBatch,
    RequestRecord,
    RunnerHeartbeat,
)
from llem_schemas.base import Event
from llem_schemas.subjects import Layout
from tests import events
from tests.natsauth import SeedOf
from tests.seeding import ingest

CID = uuid.uuid4()
JOB = JobSpec(job_id=uuid.uuid4(), campaign_id=CID, pool="cpu", backend=LlamaCppBackend(model_path="/m.gguf"))
RUN = uuid.uuid4()
STUB = uuid.uuid4()  # a job known only from its job.status (its job.queued not ingested yet)
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _seed() -> list[Event]:
    ids = {"run_id": RUN, "job_id": JOB.job_id, "campaign_id": CID, "runner_id": "r1", "attempt": 1}
    samples = [
        MetricSample(
            sampled_at=T0 + timedelta(milliseconds=500 * k),
            gpu_index=g,
            power_w=100.0 * (g + 1) + k,
            energy_counter_j=float(k),
            temperature_c=50.0,
        )
        for k in range(6)  # 3 s at 2 Hz
        for g in range(2)
    ]
    return [
        CampaignSubmitted(campaign_id=CID, name="api", job_count=1, spec={"pools": [{"name": "cpu"}]}),
        JobQueued(job=JOB),
        # the run's window holds its samples, as a runner's does (the API bounds sample queries by it)
        events.started(JOB, 1, run_id=RUN).model_copy(update={"occurred_at": T0 - timedelta(seconds=1)}),
        MetricBatch(**ids, seq=0, meter="nvml", samples=samples),
        RequestBatch(
            **ids,
            seq=0,
            requests=[
                RequestRecord(repetition=0, index=i, started_at=T0, output_tokens=4, e2e_ms=10.0 * (i + 1))
                for i in range(3)
            ],
        ),
        events.completed(JOB, 1).model_copy(update={"run_id": RUN, "occurred_at": T0 + timedelta(seconds=5)}),
        JobStatusChanged(
            job_id=JOB.job_id,
            campaign_id=CID,
            pool="cpu",
            status="completed",
            attempt=1,
            runner_id="r1",
            run_id=RUN,
            revision=3,
        ),
        JobStatusChanged(job_id=STUB, campaign_id=CID, pool="cpu", status="queued", attempt=0, revision=1),
        CampaignProgress(
            campaign_id=CID,
            status="finished",
            total=1,
            queued=0,
            running=0,
            completed=1,
            failed=0,
            cancelled=0,
            live_runners=1,
            eta_s=0,
        ),
        RunnerHeartbeat(
            occurred_at=T0,
            runner_id="r1",
            hostname="box",
            pools=["cpu"],
            started_at=T0,
            heartbeat_interval_s=5,
            llem_version="0",
        ),
        RunnerHeartbeat(  # beating now
            runner_id="r2",
            hostname="box2",
            pools=["cpu"],
            started_at=T0,
            heartbeat_interval_s=5,
            llem_version="0",
        ),
    ]


async def test_every_read_endpoint_answers_from_ingested_data(
    seed_of: SeedOf,
    js: JetStreamContext,
    layout: Layout,
    service_env: dict[str, str],
    database_url: str,
    tmp_path: Path,
) -> None:
    await ingest(js, layout, service_env, tmp_path, _seed())

    async with AsyncTestClient(
        app=create_app(
            ApiSettings(
                nats_nkey_seed=seed_of("api", layout.prefix),
                database_url=database_url,
                nats_url=service_env["LLEM_NATS_URL"],
                prefix=layout.prefix,
                runner_ttl_s=7,
            )
        )
    ) as client:
        # every answer is checked against the committed OpenAPI document (kept fresh by make test),
        # as an outside contract tester would: typed job, fingerprint, summary, progress and GPUs
        contract = schemathesis.openapi.from_dict(json.loads(OPENAPI.read_text()))

        def template(path: str) -> str:
            return re.sub(
                r"[0-9a-f]{8}-[0-9a-f-]{27}",
                lambda m: "{%s}" % ("campaign_id" if "campaigns" in path else "run_id"),
                path,
            )

        async def ok(path: str, **params: Any) -> Any:
            resp = await client.get(path, params=params)
            assert resp.status_code == 200, resp.text
            contract[template(path)]["GET"].validate_response(resp)
            return resp.json()

        assert (await ok("/readyz"))["checks"] == {"database": "ok"}
        detail = await ok(f"/api/runs/{RUN}")
        assert detail["run"]["status"] == "completed" and detail["fingerprint"]["hostname"] == "h"
        assert [r["repetition"] for r in detail["repetitions"]] == [0]

        series = await ok(f"/api/runs/{RUN}/timeseries", bucket=1)
        points = series["points"]
        assert len(points) == 6, "3 one-second buckets x 2 GPUs"
        first = next(p for p in points if p["gpu_index"] == 1)
        assert first["samples"] == 2 and first["power_w"] == 200.5 and first["energy_counter_j"] == 1.0
        coarse = await ok(f"/api/runs/{RUN}/timeseries", bucket=60)
        assert [p["samples"] for p in coarse["points"]] == [6, 6]

        requests = await ok(f"/api/runs/{RUN}/requests")
        assert [r["e2e_ms"] for r in requests["items"]] == [10.0, 20.0, 30.0]

        campaigns = await ok("/api/campaigns")
        [campaign] = campaigns["items"]
        assert campaigns["total"] == 1
        assert campaign["status"] == "finished" and campaign["progress"]["completed"] == 1
        one = await ok(f"/api/campaigns/{CID}")
        jobs = {j["job_id"]: j for j in one["jobs"]}
        done, stub = jobs[str(JOB.job_id)], jobs[str(STUB)]
        assert (done["status"], done["run_id"], done["revision"]) == ("completed", str(RUN), 3)
        assert done["updated_at"] is not None and done["job"]["backend"]["kind"] == "llama_cpp"
        assert done["job"]["job_id"] == str(JOB.job_id), "the job's spec, typed"
        assert (stub["status"], stub["revision"], stub["job"]) == ("queued", 1, None), "a status-only row"
        etag = (await client.get(f"/api/campaigns/{CID}")).headers["etag"]
        cached = await client.get(f"/api/campaigns/{CID}", headers={"If-None-Match": etag})
        assert cached.status_code == 304, "the detail keeps its ETag"

        runners = {r["runner_id"]: r for r in await ok("/api/runners")}
        assert runners["r1"]["hostname"] == "box"
        assert runners["r1"]["alive"] is False, "its heartbeat is from long ago"
        assert runners["r2"]["alive"] is True
        assert runners["r2"]["heartbeat_ttl_s"] == 7, "the deployment's runner TTL"

        page = await ok(
            "/api/runs", campaign_id=str(CID), status="completed", sort="-energy_per_output_token_j"
        )
        assert [r["run_id"] for r in page["items"]] == [str(RUN)] and page["total"] == 1
        assert (await ok("/api/runs", status="failed"))["total"] == 0
        assert (await client.get("/api/runs", params={"sort": "password"})).status_code == 400
        assert (await client.get("/api/runs", params={"status": "exploded"})).status_code == 400

        samples_csv = await client.get(f"/api/runs/{RUN}/download/samples.csv")
        assert samples_csv.status_code == 200 and samples_csv.headers["content-type"].startswith("text/csv")
        lines = samples_csv.text.strip().splitlines()
        assert lines[0].startswith("sampled_at,gpu_index,meter,power_w") and len(lines) == 1 + 12
        requests_csv = await client.get(f"/api/runs/{RUN}/download/requests.csv")
        assert len(requests_csv.text.strip().splitlines()) == 1 + 3
        unknown = await client.get(f"/api/runs/{RUN}/download/secrets.csv")
        assert unknown.status_code == 400 and "what" in unknown.json()["detail"], "not one of the enum"

        metrics = await client.get("/metrics")
        assert metrics.status_code == 200 and "llem_api_requests_total" in metrics.text
        assert 'path="/api/runs/{run_id}/timeseries"' in metrics.text, "grouped by route template"

        missing = await client.get(f"/api/runs/{uuid.uuid4()}")
        assert missing.status_code == 404 and missing.headers["content-type"].startswith(
            "application/problem+json"
        )
        assert "no run" in missing.json()["detail"]
        bad = await client.get(f"/api/runs/{RUN}/timeseries", params={"bucket": "-1"})
        assert bad.status_code == 400 and "bucket" in bad.text
        not_a_uuid = await client.get("/api/campaigns/not-a-uuid")
        assert not_a_uuid.status_code in (400, 404)
